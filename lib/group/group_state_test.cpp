// GroupState: join/sync/heartbeat/leave, session expiry and the rebalance
// timeout, generations (also across restore), static membership, fenced
// commits, the assignor choice and the cooperative two-round handover.
#include "group/group_state.h"

#include <doctest/doctest.h>

using namespace kreek;
using namespace kreek::group;

namespace {

JoinRequest req(std::string member_id = "", std::vector<std::string> assignors = {"range"},
                std::string instance_id = "") {
  JoinRequest r;
  r.member_id = std::move(member_id);
  r.instance_id = std::move(instance_id);
  r.client_id = "kconsume";
  r.host = "127.0.0.1:5000";
  r.topics = {"t"};
  r.assignors = std::move(assignors);
  r.session_timeout_ms = 10000;
  r.rebalance_timeout_ms = 30000;
  return r;
}

// A GroupState with its broker around it: tickets, answers, the last record.
struct Harness {
  GroupState g;
  PartitionCounts counts{{"t", 6}};
  uint64_t tickets = 0;
  std::map<uint64_t, JoinAnswer> answers;
  std::optional<GroupRecord> record;
  int records = 0;

  explicit Harness(GroupLimits limits = {}) : g("g", limits) {}

  void absorb(GroupEffects& e) {
    for (JoinAnswer& a : e.joins) {
      REQUIRE_MESSAGE(!answers.count(a.ticket), "ticket " << a.ticket << " answered twice");
      answers[a.ticket] = a;
    }
    if (e.record) record = e.record, ++records;
  }
  uint64_t join(const JoinRequest& r, int64_t now = 0) {
    GroupEffects e;
    g.join(r, ++tickets, now, counts, e);
    absorb(e);
    return tickets;
  }
  void tick(int64_t now) {
    GroupEffects e;
    g.tick(now, counts, e);
    absorb(e);
  }
  Status leave(const std::string& id, int64_t now = 0) {
    GroupEffects e;
    Status s = g.leave(id, now, counts, e);
    absorb(e);
    return s;
  }
  bool answered(uint64_t t) const { return answers.count(t) != 0; }
  const JoinAnswer& answer(uint64_t t) {
    REQUIRE_MESSAGE(answered(t), "ticket " << t << " not answered");
    return answers.at(t);
  }
  // A new member joins a group whose delay is 0 and the others rejoin: the member id.
  std::string add(JoinRequest r, int64_t now = 0) {
    uint64_t t = join(r, now);
    if (answered(t)) return answer(t).member_id;
    std::vector<JoinRequest> others;
    for (const auto& [id, m] : g.members()) {
      if (m.join_ticket) continue;
      JoinRequest o = with_id(r, id);
      o.instance_id = m.instance_id;
      o.topics = m.topics;
      o.assignors = m.assignors;
      o.session_timeout_ms = m.session_timeout_ms;
      o.rebalance_timeout_ms = m.rebalance_timeout_ms;
      others.push_back(o);
    }
    for (const JoinRequest& o : others) join(o, now);
    return answer(t).member_id;
  }
  static JoinRequest with_id(JoinRequest r, std::string id) {
    r.member_id = std::move(id);
    return r;
  }
  PartitionSet sync(const std::string& id, int64_t now = 0) {
    auto r = g.sync(id, g.generation(), now);
    REQUIRE_MESSAGE(r.is_ok(), r.status().to_string());
    return *r;
  }
};

bool disjoint(const GroupState& g) {
  PartitionSet all;
  for (const auto& [id, m] : g.members())
    for (const TopicPartition& tp : m.assignment)
      if (!all.insert(tp).second) return false;
  return true;
}

}  // namespace

TEST_SUITE("group") {
  TEST_CASE("group state: the first member gets generation 1, a fresh member id and every partition") {
    Harness h;
    CHECK(h.g.phase() == GroupPhase::kEmpty);
    CHECK(h.g.generation() == 0);
    uint64_t t = h.join(req());
    const JoinAnswer& a = h.answer(t);
    REQUIRE(a.status.is_ok());
    CHECK(a.generation == 1);
    CHECK(a.assignor == "range");
    CHECK(a.member_id.rfind("kconsume-", 0) == 0);
    CHECK(a.member_id.size() == std::string("kconsume-").size() + 16);
    CHECK(a.member_id.find_first_not_of("0123456789abcdef", 9) == std::string::npos);
    CHECK(h.g.phase() == GroupPhase::kStable);
    REQUIRE(h.record.has_value());
    CHECK(h.record->generation == 1);
    CHECK(h.record->members.size() == 1);
    CHECK(h.sync(a.member_id).size() == 6);
    CHECK(h.g.heartbeat(a.member_id, 1, 100).is_ok());
    // No client id: the id says "member".
    Harness h2;
    JoinRequest anon = req();
    anon.client_id = "";
    CHECK(h2.answer(h2.join(anon)).member_id.rfind("member-", 0) == 0);
  }

  TEST_CASE("group state: a second member rebalances the group; the first learns it from its heartbeat") {
    Harness h;
    std::string a = h.answer(h.join(req())).member_id;
    uint64_t tb = h.join(req(), 100);
    CHECK_FALSE(h.answered(tb));
    CHECK(h.g.phase() == GroupPhase::kPreparingRebalance);
    CHECK(h.g.heartbeat(a, 1, 200).code() == Code::kRebalanceInProgress);
    CHECK(h.g.sync(a, 1, 200).status().code() == Code::kRebalanceInProgress);
    uint64_t ta = h.join(Harness::with_id(req(), a), 300);
    REQUIRE(h.answered(ta));
    REQUIRE(h.answered(tb));
    CHECK(h.answer(ta).generation == 2);
    CHECK(h.answer(tb).generation == 2);
    CHECK(h.answer(ta).member_id == a);
    std::string b = h.answer(tb).member_id;
    CHECK(b != a);
    CHECK(h.sync(a).size() == 3);
    CHECK(h.sync(b).size() == 3);
    CHECK(disjoint(h.g));
    CHECK(h.g.heartbeat(a, 1, 400).code() == Code::kIllegalGeneration);
    CHECK(h.g.sync(a, 1, 400).status().code() == Code::kIllegalGeneration);
    CHECK(h.g.heartbeat("nobody", 2, 400).code() == Code::kUnknownMember);
  }

  TEST_CASE("group state: the rebalance timeout removes a member that does not rejoin, even one that heartbeats") {
    Harness h;
    JoinRequest r = req();
    r.session_timeout_ms = 60000;
    r.rebalance_timeout_ms = 5000;
    std::string a = h.add(r);
    std::string b = h.add(r);
    CHECK(h.g.generation() == 2);
    uint64_t tc = h.join(r, 1000);
    uint64_t ta = h.join(Harness::with_id(r, a), 1100);
    CHECK(h.g.heartbeat(b, 2, 2000).code() == Code::kRebalanceInProgress);  // b heartbeats, never rejoins
    CHECK(h.g.next_deadline_ms() == 6000);
    h.tick(5999);
    CHECK_FALSE(h.answered(tc));
    h.tick(6000);
    REQUIRE(h.answered(tc));
    REQUIRE(h.answered(ta));
    CHECK(h.answer(tc).generation == 3);
    CHECK(h.g.members().size() == 2);
    CHECK_FALSE(h.g.members().count(b));
    CHECK(h.g.heartbeat(b, 3, 6001).code() == Code::kUnknownMember);
  }

  TEST_CASE("group state: an Empty group waits initial_rebalance_delay_ms for more members") {
    GroupLimits l;
    l.initial_rebalance_delay_ms = 3000;
    Harness h(l);
    uint64_t t1 = h.join(req(), 0);
    uint64_t t2 = h.join(req(), 1000);
    CHECK(h.g.next_deadline_ms() == 3000);
    h.tick(2999);
    CHECK_FALSE(h.answered(t1));
    h.tick(3000);
    CHECK(h.answer(t1).generation == 1);
    CHECK(h.answer(t2).generation == 1);
    CHECK(h.records == 1);  // one rebalance for both
  }

  TEST_CASE("group state: session expiry removes the silent member only; heartbeats in time keep one") {
    Harness h;
    std::string a = h.add(req());
    std::string b = h.add(req());
    int32_t gen = h.g.generation();
    // b heartbeats every 3 s, the last at exactly its session's end; a says nothing.
    for (int64_t t = 3000; t <= 9000; t += 3000) {
      CHECK(h.g.heartbeat(b, gen, t).is_ok());
      h.tick(t);
    }
    h.tick(10000);  // a's session: 10000 ms since 0, not more
    CHECK(h.g.members().count(a));
    CHECK(h.g.next_deadline_ms() == 10001);
    h.tick(10001);
    CHECK_FALSE(h.g.members().count(a));
    CHECK(h.g.members().count(b));
    CHECK(h.g.phase() == GroupPhase::kPreparingRebalance);
    CHECK(h.g.heartbeat(b, gen, 10002).code() == Code::kRebalanceInProgress);
    uint64_t tb = h.join(Harness::with_id(req(), b), 10003);
    CHECK(h.answer(tb).generation == gen + 1);
    CHECK(h.sync(b).size() == 6);
    // The last member's session runs out too: the group empties, in a new generation.
    h.tick(10003 + 10001);
    CHECK(h.g.phase() == GroupPhase::kEmpty);
    CHECK(h.g.generation() == gen + 2);
    REQUIRE(h.record.has_value());
    CHECK(h.record->members.empty());
    CHECK(h.record->generation == gen + 2);
    CHECK(h.g.next_deadline_ms() == INT64_MAX);
  }

  TEST_CASE("group state: a member waiting in a parked join is not expired; its session restarts at the answer") {
    Harness h;
    JoinRequest r = req();
    r.session_timeout_ms = 2000;
    r.rebalance_timeout_ms = 9000;
    std::string a = h.add(r);
    std::string b = h.add(r);
    // a rejoins and waits; b says nothing more and is removed by its session
    // (which ends the phase); a, parked for longer than its session, is kept.
    uint64_t ta = h.join(Harness::with_id(r, a), 100);
    h.tick(2000);
    CHECK_FALSE(h.answered(ta));
    h.tick(2101);
    CHECK_FALSE(h.g.members().count(b));
    REQUIRE(h.answered(ta));
    CHECK(h.g.members().at(a).last_heard_ms == 2101);
    CHECK(h.g.next_deadline_ms() == 2101 + 2000 + 1);
    CHECK(h.sync(a, 2200).size() == 6);
  }

  TEST_CASE("group state: session timeouts outside the broker's limits and unknown assignors are refused") {
    GroupLimits l;
    l.min_session_timeout_ms = 6000;
    l.max_session_timeout_ms = 60000;
    Harness h(l);
    JoinRequest r = req();
    r.session_timeout_ms = 5999;
    const JoinAnswer& low = h.answer(h.join(r));
    CHECK(low.status.code() == Code::kInvalidRequest);
    CHECK(low.status.message().find("6000 to 60000") != std::string::npos);
    r.session_timeout_ms = 60001;
    CHECK(h.answer(h.join(r)).status.code() == Code::kInvalidRequest);
    r.session_timeout_ms = 60000;
    r.assignors = {"range", "fastest"};
    CHECK(h.answer(h.join(r)).status.code() == Code::kInvalidRequest);
    r.assignors = {};
    CHECK(h.answer(h.join(r)).status.code() == Code::kInvalidRequest);
    r.assignors = {"range"};
    r.topics = {};
    CHECK(h.answer(h.join(r)).status.code() == Code::kInvalidRequest);
    CHECK(h.g.members().empty());
    CHECK(h.records == 0);
    r.topics = {"t"};
    r.session_timeout_ms = 6000;
    CHECK(h.answer(h.join(r)).status.is_ok());
  }

  TEST_CASE("group state: a joiner sharing no assignor with the group gets INCONSISTENT_GROUP_PROTOCOL") {
    Harness h;
    std::string a = h.add(req("", {"range"}));
    uint64_t t = h.join(req("", {"roundrobin", "sticky"}));
    CHECK(h.answer(t).status.code() == Code::kInconsistentGroupProtocol);
    CHECK(h.g.phase() == GroupPhase::kStable);  // nothing changed
    CHECK(h.g.members().size() == 1);
    // Sharing one is enough; the group uses the first member's first shared one.
    std::string b = h.add(req("", {"roundrobin", "range"}, "b"));
    CHECK(h.g.assignor() == "range");
    // A member may not rejoin with a list the others do not share.
    uint64_t ta = h.join(Harness::with_id(req("", {"sticky"}), a));
    CHECK(h.answer(ta).status.code() == Code::kInconsistentGroupProtocol);
  }

  TEST_CASE("group state: the assignor is the first member's first choice that everyone lists") {
    Harness h;
    h.add(req("", {"roundrobin", "range"}, "a"));
    h.add(req("", {"range", "roundrobin"}, "b"));
    CHECK(h.g.assignor() == "roundrobin");  // "a" sorts first
  }

  TEST_CASE("group state: a static member's restart takes over its entry with no rebalance") {
    Harness h;
    std::string a = h.add(req("", {"range"}, "w1"));
    std::string b = h.add(req("", {"range"}, "w2"));
    const int32_t gen = h.g.generation();
    PartitionSet had = h.sync(a);
    const int records = h.records;
    uint64_t t = h.join(req("", {"range"}, "w1"), 500);
    const JoinAnswer& x = h.answer(t);
    REQUIRE(x.status.is_ok());
    CHECK(x.generation == gen);
    CHECK(x.member_id != a);
    CHECK(h.g.phase() == GroupPhase::kStable);
    CHECK(h.sync(x.member_id) == had);
    CHECK(h.g.heartbeat(b, gen, 600).is_ok());
    // The record names the new member id, so a new coordinator knows it.
    CHECK(h.records == records + 1);
    bool named = false;
    for (const MemberRecord& m : h.record->members) named = named || m.member_id == x.member_id;
    CHECK(named);
    // The old member id is fenced everywhere.
    CHECK(h.g.heartbeat(a, gen, 700).code() == Code::kFencedInstanceId);
    CHECK(h.g.sync(a, gen, 700).status().code() == Code::kFencedInstanceId);
    CHECK(h.g.check_commit(a, gen, 700).code() == Code::kFencedInstanceId);
    CHECK(h.answer(h.join(Harness::with_id(req("", {"range"}, "w1"), a))).status.code() == Code::kFencedInstanceId);
    GroupEffects e;
    CHECK(h.g.leave(a, 700, h.counts, e).code() == Code::kFencedInstanceId);
    // A known member id with another instance id is fenced too.
    CHECK(h.answer(h.join(Harness::with_id(req("", {"range"}, "w9"), b))).status.code() == Code::kFencedInstanceId);
  }

  TEST_CASE("group state: a static restart rebalances when partitions are withheld for its old process") {
    Harness h;
    JoinRequest r = req("", {"cooperative-sticky"}, "w1");
    std::string a = h.add(r);
    JoinRequest ra = Harness::with_id(r, a);
    ra.owned = h.sync(a, 10);
    uint64_t tb = h.join(req("", {"cooperative-sticky"}), 10);
    h.join(ra, 10);
    std::string b = h.answer(tb).member_id;
    CHECK(h.sync(b, 10).empty());  // withheld until a revokes; but a dies first
    const int32_t gen = h.g.generation();
    uint64_t t = h.join(r, 20);  // a's restart
    CHECK_FALSE(h.answered(t));
    CHECK(h.g.phase() == GroupPhase::kPreparingRebalance);
    h.join(Harness::with_id(req("", {"cooperative-sticky"}), b), 30);
    CHECK(h.answer(t).generation == gen + 1);
    CHECK(h.sync(b, 30).size() == 3);
    CHECK(h.sync(h.answer(t).member_id, 30).size() == 3);
  }

  TEST_CASE("group state: a static member back with another subscription rebalances the group") {
    Harness h;
    std::string a = h.add(req("", {"range"}, "w1"));
    std::string b = h.add(req("", {"range"}, "w2"));
    const int32_t gen = h.g.generation();
    JoinRequest r = req("", {"range"}, "w1");
    r.topics = {"t", "u"};
    uint64_t t = h.join(r);
    CHECK_FALSE(h.answered(t));
    CHECK(h.g.phase() == GroupPhase::kPreparingRebalance);
    h.join(Harness::with_id(req("", {"range"}, "w2"), b));
    CHECK(h.answer(t).generation == gen + 1);
    CHECK(h.g.heartbeat(a, gen, 0).code() == Code::kFencedInstanceId);
  }

  TEST_CASE("group state: commits are fenced by member and generation") {
    Harness h;
    CHECK(h.g.check_commit("", -1, 0).is_ok());  // no members: an admin reset
    std::string a = h.add(req());
    const int32_t gen = h.g.generation();
    CHECK(h.g.check_commit(a, gen, 0).is_ok());
    CHECK(h.g.check_commit(a, gen - 1, 0).code() == Code::kIllegalGeneration);
    CHECK(h.g.check_commit(a, gen + 1, 0).code() == Code::kIllegalGeneration);
    CHECK(h.g.check_commit("stranger", gen, 0).code() == Code::kUnknownMember);
    CHECK(h.g.check_commit("", -1, 0).code() == Code::kGroupNotEmpty);
    CHECK(h.g.check_commit("", gen, 0).code() == Code::kUnknownMember);
    // While a join phase runs the current generation may still commit (what it revokes).
    h.join(req());
    CHECK(h.g.phase() == GroupPhase::kPreparingRebalance);
    CHECK(h.g.check_commit(a, gen, 0).is_ok());
    // A commit keeps the session.
    CHECK(h.g.check_commit(a, gen, 9000).is_ok());
    h.tick(15000);
    CHECK(h.g.members().count(a));
    // Once empty, only the admin form.
    CHECK(h.leave(a).is_ok());
    h.tick(100000);
    CHECK(h.g.phase() == GroupPhase::kEmpty);
    CHECK(h.g.check_commit(a, gen, 100000).code() == Code::kUnknownMember);
    CHECK(h.g.check_commit("", -1, 100000).is_ok());
  }

  TEST_CASE("group state: leave answers nothing twice, rebalances the rest, and the last one empties the group") {
    Harness h;
    std::string a = h.add(req());
    std::string b = h.add(req());
    const int32_t gen = h.g.generation();
    CHECK(h.leave(a, 10).is_ok());
    CHECK(h.leave(a, 10).code() == Code::kUnknownMember);
    CHECK(h.g.phase() == GroupPhase::kPreparingRebalance);
    uint64_t tb = h.join(Harness::with_id(req(), b), 20);
    CHECK(h.answer(tb).generation == gen + 1);
    CHECK(h.sync(b).size() == 6);
    CHECK(h.leave(b, 30).is_ok());
    CHECK(h.g.phase() == GroupPhase::kEmpty);
    CHECK(h.g.generation() == gen + 2);
    CHECK(h.record->members.empty());
    // A leave while its join is parked answers the join.
    std::string c = h.add(req(), 40);
    uint64_t td = h.join(req(), 50);
    uint64_t tc = h.join(Harness::with_id(req(), c), 50);
    CHECK(h.answered(td));  // both in: done
    std::string d = h.answer(td).member_id;
    uint64_t te = h.join(req(), 60);
    uint64_t tc2 = h.join(Harness::with_id(req(), c), 60);
    CHECK_FALSE(h.answered(tc2));
    CHECK(h.leave(c, 70).is_ok());
    CHECK(h.answer(tc2).status.code() == Code::kUnknownMember);
    (void)tc;
    (void)te;
    (void)d;
  }

  TEST_CASE("group state: restore never reuses a generation") {
    Harness h;
    std::string a = h.add(req("", {"range"}, "w1"));
    std::string b = h.add(req());
    const int32_t gen = h.g.generation();
    GroupRecord rec = h.g.to_record();
    Harness n;
    n.g.restore(rec, 5000);
    CHECK(n.g.phase() == GroupPhase::kStable);
    CHECK(n.g.generation() == gen);
    CHECK(n.g.assignor() == "range");
    CHECK(n.g.members().size() == 2);
    CHECK(n.g.members().at(a).last_heard_ms == 5000);
    CHECK(n.g.heartbeat(a, gen, 5001).is_ok());
    CHECK(n.sync(b, 5001) == h.sync(b));
    uint64_t ta = n.join(Harness::with_id(req("", {"range"}, "w1"), a), 6000);
    uint64_t tb = n.join(Harness::with_id(req(), b), 6000);
    CHECK(n.answer(ta).generation == gen + 1);
    CHECK(n.answer(tb).generation == gen + 1);
    // An emptied group's record restores Empty at its generation.
    Harness e;
    e.g.restore(GroupRecord{"g", 9, "", {}}, 0);
    CHECK(e.g.phase() == GroupPhase::kEmpty);
    CHECK(e.answer(e.join(req())).generation == 10);
  }

  TEST_CASE("group state: cooperative handover takes two rounds and never gives one partition to two members") {
    Harness h;
    JoinRequest r = req("", {"cooperative-sticky"});
    std::string a = h.add(r, 0);
    PartitionSet a_owns = h.sync(a);
    CHECK(a_owns.size() == 6);
    // b joins; a rejoins still owning all six.
    uint64_t tb = h.join(r, 100);
    JoinRequest ra = Harness::with_id(r, a);
    ra.owned = a_owns;
    uint64_t ta = h.join(ra, 100);
    std::string b = h.answer(tb).member_id;
    CHECK(h.answer(ta).generation == 2);
    PartitionSet a2 = h.sync(a, 100), b2 = h.sync(b, 100);
    CHECK(a2.size() == 3);
    CHECK(b2.empty());  // withheld: a still reads them
    for (const TopicPartition& tp : a2) CHECK(a_owns.count(tp));
    // a revokes the three it lost and rejoins at once; b is told to rejoin.
    a_owns = a2;
    ra.owned = a_owns;
    ta = h.join(ra, 200);
    CHECK_FALSE(h.answered(ta));
    CHECK(h.g.heartbeat(b, 2, 210).code() == Code::kRebalanceInProgress);
    JoinRequest rb = Harness::with_id(r, b);
    tb = h.join(rb, 220);
    CHECK(h.answer(tb).generation == 3);
    PartitionSet a3 = h.sync(a, 220), b3 = h.sync(b, 220);
    CHECK(a3 == a2);
    CHECK(b3.size() == 3);
    for (const TopicPartition& tp : b3) CHECK_FALSE(a3.count(tp));
  }

  TEST_CASE("group state: eager assignors ignore what members report owning") {
    Harness h;
    JoinRequest r = req("", {"sticky"});
    std::string a = h.add(r);
    PartitionSet all = h.sync(a);
    uint64_t tb = h.join(r, 100);
    JoinRequest ra = Harness::with_id(r, a);
    ra.owned = all;
    h.join(ra, 100);
    std::string b = h.answer(tb).member_id;
    CHECK(h.sync(b, 100).size() == 3);  // nothing withheld
    CHECK(h.sync(a, 100).size() == 3);
  }

  TEST_CASE("group state: a partition-count change of a subscribed topic rebalances a Stable group") {
    Harness h;
    std::string a = h.add(req());
    GroupEffects e;
    h.g.on_partition_counts({{"t", 6}, {"other", 3}}, 10, e);
    CHECK(h.g.phase() == GroupPhase::kStable);
    h.g.on_partition_counts({{"t", 8}}, 20, e);
    CHECK(h.g.phase() == GroupPhase::kPreparingRebalance);
    CHECK(h.g.heartbeat(a, 1, 30).code() == Code::kRebalanceInProgress);
    h.counts = {{"t", 8}};
    uint64_t t = h.join(Harness::with_id(req(), a), 40);
    CHECK(h.answer(t).generation == 2);
    CHECK(h.sync(a, 40).size() == 8);
    // Restored: the first count check compares coverage.
    Harness n;
    n.g.restore(h.g.to_record(), 0);
    GroupEffects e2;
    n.g.on_partition_counts({{"t", 8}}, 10, e2);
    CHECK(n.g.phase() == GroupPhase::kStable);
    n.g.on_partition_counts({{"t", 8}}, 10, e2);
    CHECK(n.g.phase() == GroupPhase::kStable);
    n.g.on_partition_counts({{"t", 9}}, 10, e2);
    CHECK(n.g.phase() == GroupPhase::kPreparingRebalance);
  }

  TEST_CASE("group state: a member's repeated join voids the earlier one; max_members is enforced") {
    GroupLimits l;
    l.max_members = 2;
    Harness h(l);
    std::string a = h.add(req());
    uint64_t t1 = h.join(req(), 10);
    std::string b = h.g.members().size() == 2 ? "" : "?";
    for (const auto& [id, m] : h.g.members())
      if (id != a) b = id;
    uint64_t t2 = h.join(Harness::with_id(req(), b), 20);
    CHECK(h.answer(t1).status.code() == Code::kRebalanceInProgress);
    CHECK(h.answer(h.join(req(), 30)).status.code() == Code::kCoordinatorNotAvailable);
    h.join(Harness::with_id(req(), a), 40);
    CHECK(h.answer(t2).generation == 2);
  }

  TEST_CASE("group state: delete needs an empty group") {
    Harness h;
    std::string a = h.add(req());
    h.g.apply_offset({"t", 0}, {5, "", 0});
    CHECK(h.g.mark_deleted().code() == Code::kGroupNotEmpty);
    CHECK(h.leave(a).is_ok());
    CHECK(h.g.offsets().size() == 1);
    h.g.remove_offset({"t", 0});
    CHECK(h.g.offsets().empty());
    CHECK(h.g.mark_deleted().is_ok());
    CHECK(h.g.phase() == GroupPhase::kDead);
    CHECK(phase_name(h.g.phase()) == "Dead");
    CHECK(h.answer(h.join(req())).status.code() == Code::kCoordinatorNotAvailable);
  }
}
