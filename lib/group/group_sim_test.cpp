// Seeded, deterministic simulation of one consumer group: the real GroupState
// on a coordinator whose group records persist (or fail to), simulated
// clients following groups.md's client rules (eager: drop all, rejoin;
// cooperative: keep, rejoin with what they own, revoke after sync, rejoin
// again) that crash, pause past their session and come back as zombies,
// leave, and restart under a static instance id; coordinator failovers that
// rebuild the group from the last persisted record; partition-count changes.
// After every step the checker looks at the coordinator and every client.
// A failing seed is printed with its last events; rerun it alone with
// KREEK_GROUP_SIM_SEED=N (KREEK_GROUP_SIM_SEEDS=count for more seeds,
// KREEK_GROUP_SIM_TRACE=1 to print every event).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "group/group_state.h"

namespace kreek::group {
namespace {

// Rules the simulation can be told to break, to show the checker catches them.
enum class Broken {
  kNone,
  kNoWithholding,       // cooperative: a partition goes to its new owner while the old one still reads it
  kRestoreGenerationBack,  // a new coordinator restores record.generation - 1
  kTickAhead,              // the coordinator's timer runs 2.5 s ahead of its request clock
};

std::string tp_str(const TopicPartition& tp) { return tp.topic + "/" + std::to_string(tp.partition); }
std::string set_str(const PartitionSet& s) {
  std::string out = "{";
  for (const TopicPartition& tp : s) {
    if (out.size() > 1) out += ',';
    out += tp_str(tp);
  }
  return out + "}";
}

struct Client {
  enum class State { kDown, kNeedJoin, kJoining, kNeedSync, kMember };
  // Configuration (kept across restarts).
  std::string name;
  std::string instance_id;  // "" unless static
  std::vector<std::string> topics;
  std::vector<std::string> assignors;
  int upgrade_stage = 0;  // upgrade runs: range, then cooperative-sticky+range, then cooperative-sticky
  int64_t session_ms = 0, rebalance_ms = 0, heartbeat_ms = 0, commit_ms = 0;
  // The process.
  State state = State::kDown;
  int incarnation = 0;
  bool paused_since_joined = false;  // paused at some point since its last answered join
  int64_t paused_until = 0;
  std::string member_id;
  int32_t generation = -1;
  // Kafka's rule: a client rebalances cooperatively only when every assignor
  // it lists is cooperative; listing an eager one too makes it eager.
  bool cooperative = false;
  PartitionSet owned;        // what it believes it reads now
  std::optional<uint64_t> ticket;
  std::deque<JoinAnswer> inbox;
  int64_t next_heartbeat = 0, next_commit = 0;
  int64_t last_sent = 0;  // its last request to the coordinator (each one keeps the session)

  bool running() const { return state != State::kDown; }
};

struct Stats {
  int64_t generations = 0, failovers = 0, failed_appends = 0, crashes = 0, pauses = 0, restarts = 0,
          leaves = 0, commits = 0, zombie_commits_refused = 0, static_takeovers = 0, revocations = 0,
          count_changes = 0, quiet_checks = 0;
};

class Simulation {
 public:
  Simulation(uint64_t seed, Broken broken) : seed_(seed), rng_(seed), broken_(broken) {
    // Eager, cooperative, or a rolling upgrade from range to cooperative-sticky.
    mode_ = broken == Broken::kNoWithholding ? 1 : pick(5) == 0 ? 2 : pick(2);
    static const char* kEager[] = {"range", "roundrobin", "sticky"};
    assignors_ = {mode_ == 1 ? "cooperative-sticky" : kEager[pick(3)]};
    if (mode_ == 0 && pick(3) == 0) assignors_.push_back("cooperative-sticky");  // listed second: never chosen
    limits_.initial_rebalance_delay_ms = pick(2) == 0 ? 0 : 500;
    limits_.min_session_timeout_ms = 1000;
    counts_["a"] = 1 + pick(8);
    if (pick(2) == 0) counts_["b"] = 1 + pick(4);
    append_fail_per_mille_ = pick(3) == 0 ? 0 : 10 + pick(60);
    const int n = 2 + pick(4);
    for (int i = 0; i < n; ++i) {
      Client c;
      c.name = "c" + std::to_string(i);
      if (pick(3) == 0) c.instance_id = "w" + std::to_string(i);
      c.topics = {"a"};
      if (pick(2) == 0) c.topics.push_back("b");
      c.session_ms = 3000 + 500 * pick(11);
      c.rebalance_ms = 2000 + 1000 * pick(9);
      c.heartbeat_ms = std::min<int64_t>(c.session_ms / 3, 1000);
      c.commit_ms = 300 + pick(1500);
      clients_.push_back(c);
    }
    coord_ = std::make_unique<GroupState>("g", limits_);
  }

  std::string run(int steps) {
    for (size_t i = 0; i < clients_.size(); ++i) restart(i);
    for (step_ = 0; step_ < steps; ++step_) {
      now_ += 1 + pick(100);
      if (pick(100) < 4) disrupt();
      advance();
      if (std::string v = check(); !v.empty()) return failure(v);
    }
    // Heal: every client runs and stays up, appends succeed; the group must
    // settle with every subscribed partition read by exactly one member.
    append_fail_per_mille_ = 0;
    for (size_t i = 0; i < clients_.size(); ++i) {
      clients_[i].paused_until = std::min(clients_[i].paused_until, now_);
      if (!clients_[i].running()) restart(i);
    }
    const int64_t heal_start = now_;
    for (; now_ - heal_start < 120000; ++step_) {
      now_ += 1 + pick(100);
      advance();
      if (std::string v = check(); !v.empty()) return failure("healing: " + v);
      if (quiet() && outstanding_.empty() && all_in()) {
        if (std::string v = coverage(); !v.empty()) return failure("healing: " + v);
        return "";
      }
    }
    return failure("liveness: the group did not settle within 120 s of healing (" +
                   std::string(phase_name(coord_->phase())) + ", generation " +
                   std::to_string(coord_->generation()) + ", " + std::to_string(coord_->members().size()) +
                   " members, " + std::to_string(outstanding_.size()) + " joins parked)");
  }

  const Stats& stats() const { return stats_; }
  // A hash of every event: equal for two runs of one seed.
  uint64_t fingerprint() const { return fingerprint_; }

 private:
  // ---- plumbing -----------------------------------------------------------

  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  template <typename... A>
  void trace(const A&... a) {
    std::string line = "[" + std::to_string(step_) + " t=" + std::to_string(now_) + "] ";
    ((line += a), ...);
    if (tracing_) fprintf(stderr, "%s\n", line.c_str());
    for (const char ch : line) fingerprint_ = (fingerprint_ ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
    recent_.push_back(std::move(line));
    if (recent_.size() > 40) recent_.pop_front();
  }
  std::string failure(const std::string& v) {
    std::string out = "step " + std::to_string(step_) + ": " + v + "\n  last events:";
    for (const std::string& l : recent_) out += "\n    " + l;
    return out;
  }
  static std::string str(int64_t v) { return std::to_string(v); }
  void violation(const std::string& v) {
    if (violation_.empty()) violation_ = v;
  }
  bool append_fails() { return pick(1000) < append_fail_per_mille_; }

  // ---- the coordinator --------------------------------------------------

  // What a call asks of the broker: persist the record (it may fail: then
  // the joins get NOT_COORDINATOR and the group moves), then answer.
  void settle(GroupEffects& e, int32_t gen_before) {
    bool any_ok = false;
    for (const JoinAnswer& a : e.joins) any_ok = any_ok || a.status.is_ok();
    if (any_ok && !e.record) violation("an OK join answer came without a record to persist");
    if (e.record) {
      if (e.record->generation != coord_->generation()) violation("the record's generation is not the group's");
      if (append_fails()) {
        ++stats_.failed_appends;
        trace("append of the generation ", str(e.record->generation), " record fails");
        for (JoinAnswer& a : e.joins) {
          if (a.status.is_ok()) a.status = Status(Code::kNotCoordinator, "append failed");
          deliver(a);
        }
        failover();
        return;
      }
      if (persisted_ && e.record->generation < persisted_->generation)
        violation("persisted generation went back from " + str(persisted_->generation) + " to " +
                  str(e.record->generation));
      if (coord_->generation() != gen_before) {
        // A join phase ended (or the group emptied): a generation nobody has
        // seen before, including before any failover.
        if (e.record->generation <= issued_max_)
          violation("generation " + str(e.record->generation) + " issued again (highest issued " +
                    str(issued_max_) + ")");
        issued_max_ = std::max(issued_max_, e.record->generation);
        ++stats_.generations;
        std::string who;
        for (const MemberRecord& m : e.record->members) who += " " + m.member_id + set_str(m.assignment);
        trace("generation ", str(e.record->generation), " (", e.record->assignor, "):", who);
      }
      persisted_ = e.record;
    }
    for (const JoinAnswer& a : e.joins) deliver(a);
  }

  void deliver(const JoinAnswer& a) {
    auto it = outstanding_.find(a.ticket);
    if (it == outstanding_.end()) return violation("ticket " + str(static_cast<int64_t>(a.ticket)) + " answered twice");
    auto [idx, incarnation] = it->second.who;
    outstanding_.erase(it);
    Client& c = clients_[idx];
    if (c.incarnation == incarnation && c.running()) c.inbox.push_back(a);
  }

  // The broker drops the group; the next coordinator reads it back from the
  // offsets topic. Parked joins get NOT_COORDINATOR.
  void failover() {
    ++stats_.failovers;
    std::vector<uint64_t> parked;
    for (const auto& [id, m] : coord_->members())
      if (m.join_ticket) parked.push_back(*m.join_ticket);
    for (uint64_t t : parked) deliver(JoinAnswer{t, Status(Code::kNotCoordinator, "coordinator moved"), -1, "", ""});
    coord_ = std::make_unique<GroupState>("g", limits_);
    if (persisted_) {
      GroupRecord r = *persisted_;
      if (broken_ == Broken::kRestoreGenerationBack && r.generation > 0) --r.generation;
      coord_->restore(r, now_);
    }
    for (const auto& [tp, o] : persisted_offsets_) coord_->apply_offset(tp, o);
    trace("failover: restored generation ", str(coord_->generation()), " with ",
          str(static_cast<int64_t>(coord_->members().size())), " members");
    members_before_.clear();
    for (const auto& [id, m] : coord_->members()) members_before_.insert(id);
  }

  // ---- clients ----------------------------------------------------------

  void restart(size_t i) {
    Client& c = clients_[i];
    ++c.incarnation;
    c.state = Client::State::kNeedJoin;
    c.member_id.clear();
    c.generation = -1;
    c.owned.clear();
    c.ticket.reset();
    c.inbox.clear();
    c.paused_since_joined = false;
    c.paused_until = std::min(c.paused_until, now_);
    if (mode_ == 2) {
      static const std::vector<std::string> kStages[] = {
          {"range"}, {"cooperative-sticky", "range"}, {"cooperative-sticky"}};
      c.assignors = kStages[c.upgrade_stage];
      c.upgrade_stage = std::min(c.upgrade_stage + 1, 2);
    } else {
      c.assignors = assignors_;
    }
    c.cooperative = true;
    for (const std::string& a : c.assignors) c.cooperative = c.cooperative && is_cooperative(*assignor_from_name(a));  // a new process; the last pause still excuses the old one
    ++stats_.restarts;
    trace(c.name, " starts (incarnation ", str(c.incarnation), c.instance_id.empty() ? "" : ", static ",
          c.instance_id, ")");
  }

  void drop_all(Client& c, const char* why) {
    if (!c.owned.empty()) trace(c.name, " drops ", set_str(c.owned), ": ", why);
    c.owned.clear();
  }

  void send_join(size_t i) {
    Client& c = clients_[i];
    JoinRequest r;
    r.member_id = c.member_id;
    r.instance_id = c.instance_id;
    r.client_id = c.name;
    r.host = "sim";
    r.topics = c.topics;
    r.assignors = c.assignors;
    r.owned = c.owned;  // eager clients dropped everything already
    r.session_timeout_ms = c.session_ms;
    r.rebalance_timeout_ms = c.rebalance_ms;
    const uint64_t t = ++tickets_;
    outstanding_[t] = Parked{{i, c.incarnation}, now_};
    c.ticket = t;
    c.state = Client::State::kJoining;
    c.last_sent = now_;
    trace(c.name, " joins as \"", c.member_id, "\" owning ", set_str(c.owned));
    GroupEffects e;
    const int32_t before = coord_->generation();
    coord_->join(r, t, now_, counts_, e);
    settle(e, before);
  }

  // A client's reaction to an error from the coordinator (groups.md's rules).
  void on_error(Client& c, const Status& s, const char* op) {
    trace(c.name, " ", op, ": ", std::string(code_name(s.code())));
    switch (s.code()) {
      case Code::kRebalanceInProgress:
        if (!c.cooperative) {
          commit(c);
          drop_all(c, "eager rebalance");
        }
        c.state = Client::State::kNeedJoin;
        return;
      case Code::kIllegalGeneration:
        drop_all(c, "lost: old generation");
        c.state = Client::State::kNeedJoin;
        return;
      case Code::kUnknownMember:
        drop_all(c, "lost: unknown member");
        c.member_id.clear();
        c.generation = -1;
        c.state = Client::State::kNeedJoin;
        return;
      case Code::kInconsistentGroupProtocol:
        // Only a rolling upgrade meets it: the client exits, as Kafka's does.
        if (mode_ != 2) return violation(c.name + " " + op + " got " + s.to_string());
        c.state = Client::State::kDown;
        c.owned.clear();
        return;
      case Code::kNotCoordinator:
      case Code::kCoordinatorNotAvailable:
        if (std::string(op) == "join") c.state = Client::State::kNeedJoin;
        return;  // heartbeat, commit: the next one goes to the new coordinator
      default:
        violation(c.name + " " + op + " got " + s.to_string());
    }
  }

  void on_join_answer(Client& c, const JoinAnswer& a) {
    if (!c.ticket || *c.ticket != a.ticket) return;  // a voided ask
    c.ticket.reset();
    if (!a.status.is_ok()) {
      if (a.status.code() == Code::kUnknownMember && !c.member_id.empty()) return on_error(c, a.status, "join");
      if (a.status.code() == Code::kRebalanceInProgress || a.status.code() == Code::kUnknownMember) {
        c.state = Client::State::kNeedJoin;
        return;
      }
      return on_error(c, a.status, "join");
    }
    if (c.generation >= a.generation)
      violation(c.name + " went from generation " + str(c.generation) + " to " + str(a.generation));
    c.member_id = a.member_id;
    c.generation = a.generation;
    if (std::find(c.assignors.begin(), c.assignors.end(), a.assignor) == c.assignors.end())
      violation(c.name + " was given assignor " + a.assignor + " it does not list");
    c.state = Client::State::kNeedSync;
    c.paused_since_joined = false;
    trace(c.name, " is ", c.member_id, " in generation ", str(a.generation));
  }

  void do_sync(Client& c) {
    c.last_sent = now_;
    auto r = coord_->sync(c.member_id, c.generation, now_);
    if (!r.is_ok()) return on_error(c, r.status(), "sync");
    const PartitionSet& got = *r;
    for (const TopicPartition& tp : got) {
      // A static member's restart syncs its old assignment under a new member id.
      const std::string who = c.instance_id.empty() ? c.member_id : c.instance_id;
      auto [it, fresh] = synced_[c.generation].emplace(tp, who);
      if (!fresh && it->second != who)
        violation(tp_str(tp) + " synced to both " + it->second + " and " + c.member_id + " in generation " +
                  str(c.generation));
    }
    PartitionSet revoked;
    for (const TopicPartition& tp : c.owned)
      if (!got.count(tp)) revoked.insert(tp);
    trace(c.name, " syncs ", set_str(got), revoked.empty() ? "" : " revoking ", revoked.empty() ? "" : set_str(revoked));
    if (!revoked.empty()) {
      PartitionSet keep = c.owned;
      c.owned = revoked;
      commit(c);  // what it read of them, before letting go
      c.owned = keep;
      for (const TopicPartition& tp : revoked) c.owned.erase(tp);
      ++stats_.revocations;
    }
    c.owned.insert(got.begin(), got.end());
    c.state = Client::State::kMember;
    c.next_heartbeat = now_ + c.heartbeat_ms;
    c.next_commit = now_ + c.commit_ms;
    // KIP-429's second round: what it gave up goes to its new owner next generation.
    if (c.cooperative && !revoked.empty()) c.state = Client::State::kNeedJoin;
  }

  void commit(Client& c) {
    if (c.member_id.empty() || c.owned.empty()) return;
    c.last_sent = now_;
    Status s = coord_->check_commit(c.member_id, c.generation, now_);
    if (!s.is_ok()) {
      if (c.paused_since_joined) ++stats_.zombie_commits_refused;
      // A failed commit changes nothing for the reader; the heartbeat that follows says what to do.
      trace(c.name, " commit refused: ", std::string(code_name(s.code())));
      return;
    }
    // Accepted: it must come from a member of the current generation.
    if (!coord_->members().count(c.member_id) || c.generation != coord_->generation())
      violation("a commit from " + c.member_id + " at generation " + str(c.generation) + " was accepted at " +
                str(coord_->generation()));
    for (const TopicPartition& tp : c.owned)
      for (const Client& o : clients_)
        if (&o != &c && o.running() && o.owned.count(tp) && coord_->members().count(o.member_id))
          violation("commit of " + tp_str(tp) + " by " + c.member_id + " accepted while member " + o.member_id +
                    " reads it too");
    if (append_fails()) return;  // NOT_COORDINATOR for the commit; the client tries later
    ++stats_.commits;
    for (const TopicPartition& tp : c.owned) {
      CommittedOffset o{++offsets_written_, "", now_};
      coord_->apply_offset(tp, o);
      persisted_offsets_[tp] = o;
    }
  }

  void act(size_t i) {
    Client& c = clients_[i];
    while (!c.inbox.empty() && c.running()) {
      JoinAnswer a = c.inbox.front();
      c.inbox.pop_front();
      on_join_answer(c, a);
    }
    switch (c.state) {
      case Client::State::kDown:
        return;
      case Client::State::kJoining:
        // Cooperative members keep reading what they own meanwhile, and
        // commit it under the generation they still have.
        if (c.cooperative && now_ >= c.next_commit) {
          commit(c);
          c.next_commit = now_ + c.commit_ms;
        }
        return;
      case Client::State::kNeedJoin:
        return send_join(i);
      case Client::State::kNeedSync:
        if (pick(3) != 0) do_sync(c);  // answers take a while to be acted on
        return;
      case Client::State::kMember:
        if (now_ >= c.next_commit) {
          commit(c);
          c.next_commit = now_ + c.commit_ms;
        }
        if (now_ >= c.next_heartbeat) {
          c.last_sent = now_;
          Status s = coord_->heartbeat(c.member_id, c.generation, now_);
          c.next_heartbeat = now_ + c.heartbeat_ms;
          if (!s.is_ok()) on_error(c, s, "heartbeat");
          if (c.state == Client::State::kNeedJoin) send_join(i);
        }
        return;
    }
  }

  // ---- one step -----------------------------------------------------------

  void advance() {
    {
      GroupEffects e;
      const int32_t before = coord_->generation();
      coord_->tick(now_ + (broken_ == Broken::kTickAhead ? 2500 : 0), counts_, e);
      settle(e, before);
    }
    for (size_t i = 0; i < clients_.size(); ++i)
      if (clients_[i].running() && now_ >= clients_[i].paused_until) act(i);
  }

  void disrupt() {
    const size_t i = static_cast<size_t>(pick(static_cast<int>(clients_.size())));
    Client& c = clients_[i];
    switch (pick(9)) {
      case 0:  // kill -9
        if (!c.running()) break;
        trace(c.name, " crashes holding ", set_str(c.owned));
        c.state = Client::State::kDown;
        c.owned.clear();
        ++stats_.crashes;
        break;
      case 1:  // SIGSTOP, maybe past its session: it comes back a zombie
        if (!c.running() || now_ < c.paused_until) break;
        c.paused_until = now_ + 200 + pick(pick(2) == 0 ? 2000 : 15000);
        c.paused_since_joined = true;
        ++stats_.pauses;
        trace(c.name, " pauses until t=", str(c.paused_until), " holding ", set_str(c.owned));
        break;
      case 2:
      case 3:
        if (c.running()) break;
        if (!c.instance_id.empty()) ++stats_.static_takeovers;
        restart(i);
        break;
      case 4:  // a clean exit: flush, commit, leave
        if (!c.running() || now_ < c.paused_until) break;
        commit(c);
        if (!c.member_id.empty()) {
          GroupEffects e;
          const int32_t before = coord_->generation();
          left_.insert(c.member_id);
          Status s = coord_->leave(c.member_id, now_, counts_, e);
          trace(c.name, " leaves: ", s.is_ok() ? "ok" : s.to_string());
          settle(e, before);
        }
        c.state = Client::State::kDown;
        c.owned.clear();
        ++stats_.leaves;
        break;
      case 5:
        trace("coordinator fails over");
        failover();
        break;
      case 6: {  // a topic grows, appears or goes
        ++stats_.count_changes;
        if (pick(3) != 0) {
          counts_["a"] = std::min(counts_["a"] + 1 + pick(3), 24);
        } else if (counts_.count("b")) {
          counts_.erase("b");
        } else {
          counts_["b"] = 1 + pick(6);
        }
        trace("partition counts: a=", str(counts_["a"]), " b=", counts_.count("b") ? str(counts_["b"]) : "none");
        GroupEffects e;
        const int32_t before = coord_->generation();
        coord_->on_partition_counts(counts_, now_, e);
        settle(e, before);
        break;
      }
      case 7:  // the client's connection drops while its join is parked: it asks again
        if (c.running() && c.state == Client::State::kJoining && now_ >= c.paused_until) send_join(i);
        break;
      default:
        now_ += pick(3000);  // a quiet stretch
        break;
    }
  }

  // ---- what must hold ---------------------------------------------------

  // The running client that is member `id` now, if any.
  const Client* client_of(const std::string& id) const {
    for (const Client& c : clients_)
      if (c.running() && c.member_id == id) return &c;
    return nullptr;
  }

  std::string check() {
    if (!violation_.empty()) return violation_;
    const auto& members = coord_->members();
    // Within a generation, assignments are disjoint.
    std::map<TopicPartition, std::string> owner;
    for (const auto& [id, m] : members)
      for (const TopicPartition& tp : m.assignment)
        if (auto [it, fresh] = owner.emplace(tp, id); !fresh)
          return tp_str(tp) + " assigned to both " + it->second + " and " + id;
    // No two clients the coordinator counts as members read one partition.
    std::map<TopicPartition, std::string> reader;
    for (const Client& c : clients_) {
      if (!c.running() || !members.count(c.member_id)) continue;
      for (const TopicPartition& tp : c.owned)
        if (auto [it, fresh] = reader.emplace(tp, c.member_id); !fresh)
          return tp_str(tp) + " read by both members " + it->second + " and " + c.member_id;
    }
    // Every parked join is still parked in the group, and not for too long.
    std::set<uint64_t> parked;
    for (const auto& [id, m] : members)
      if (m.join_ticket) parked.insert(*m.join_ticket);
    int64_t longest_wait = limits_.initial_rebalance_delay_ms;
    for (const Client& c : clients_) longest_wait = std::max(longest_wait, c.rebalance_ms);
    for (const auto& [t, p] : outstanding_) {
      if (!parked.count(t)) return "join ticket " + str(static_cast<int64_t>(t)) + " is lost: never answered";
      if (now_ - p.since > longest_wait) return "join ticket " + str(static_cast<int64_t>(t)) + " parked too long";
    }
    // A member that talks to the coordinator in time is never expired.
    std::set<std::string> now_members;
    for (const auto& [id, m] : members) now_members.insert(id);
    for (const std::string& id : members_before_) {
      if (now_members.count(id)) continue;
      const Client* c = client_of(id);
      // Paused within the last session or rebalance timeout: it may have
      // missed either, so its removal proves nothing.
      if (!c || left_.count(id) || now_ - c->paused_until <= std::max(c->session_ms, longest_wait)) continue;
      if (now_ - c->last_sent <= c->session_ms)
        return "member " + id + " was removed though it last spoke " + str(now_ - c->last_sent) + " ms ago";
    }
    members_before_ = std::move(now_members);
    // Quiet: every member synced and reading; then the assignment is complete.
    if (quiet()) {
      ++stats_.quiet_checks;
      if (std::string v = coverage(); !v.empty()) return v;
    }
    return "";
  }

  // Every running client is a member of the current generation.
  bool all_in() const {
    for (const Client& c : clients_)
      if (c.running() && (c.state != Client::State::kMember || c.generation != coord_->generation()))
        return false;
    return true;
  }

  bool quiet() const {
    if (coord_->phase() != GroupPhase::kStable) return false;
    for (const auto& [id, m] : coord_->members()) {
      const Client* c = client_of(id);
      if (!c || c->state != Client::State::kMember || c->generation != coord_->generation() ||
          now_ < c->paused_until || !c->inbox.empty())
        return false;
    }
    return true;
  }

  // Every subscribed, existing partition is read by exactly one member, the
  // one the coordinator assigned it to.
  std::string coverage() const {
    std::set<std::string> subscribed;
    for (const auto& [id, m] : coord_->members()) subscribed.insert(m.topics.begin(), m.topics.end());
    std::map<TopicPartition, int> readers;
    for (const auto& [id, m] : coord_->members()) {
      const Client* c = client_of(id);
      if (c->owned != m.assignment)
        return "quiet, but " + id + " reads " + set_str(c->owned) + " while assigned " + set_str(m.assignment);
      for (const TopicPartition& tp : c->owned) ++readers[tp];
    }
    for (const std::string& t : subscribed) {
      auto it = counts_.find(t);
      if (it == counts_.end()) continue;
      for (int32_t p = 0; p < it->second; ++p)
        if (readers[{t, p}] != 1)
          return "quiet, but " + t + "/" + std::to_string(p) + " is read by " + std::to_string(readers[{t, p}]) +
                 " members";
    }
    return "";
  }

  struct Parked {
    std::pair<size_t, int> who;  // client, incarnation
    int64_t since = 0;
  };

  uint64_t seed_;
  std::mt19937_64 rng_;
  Broken broken_;
  int mode_ = 0;  // 0 eager, 1 cooperative, 2 upgrade
  std::vector<std::string> assignors_;
  GroupLimits limits_;
  PartitionCounts counts_;
  int append_fail_per_mille_ = 0;
  std::vector<Client> clients_;
  std::unique_ptr<GroupState> coord_;
  std::optional<GroupRecord> persisted_;
  std::map<TopicPartition, CommittedOffset> persisted_offsets_;
  int32_t issued_max_ = 0;
  std::map<int32_t, std::map<TopicPartition, std::string>> synced_;  // generation -> partition -> member
  std::map<uint64_t, Parked> outstanding_;
  std::set<std::string> members_before_;
  std::set<std::string> left_;
  uint64_t tickets_ = 0;
  int64_t offsets_written_ = 0;
  int64_t now_ = 1000;
  int step_ = 0;
  std::string violation_;
  std::deque<std::string> recent_;
  Stats stats_;
  uint64_t fingerprint_ = 0xcbf29ce484222325ULL;
  bool tracing_ = std::getenv("KREEK_GROUP_SIM_TRACE") != nullptr;
};

struct Outcome {
  Stats stats;
  uint64_t seed = 0;
  std::string failure;
  int failures = 0;
};

// Runs seeds [first, first+count); `stop_at_first`: a negative control needs one catch.
Outcome run_seeds(uint64_t first, uint64_t count, int steps, Broken broken, bool stop_at_first = false) {
  Outcome out;
  testing::disable_cooperative_withholding = broken == Broken::kNoWithholding;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    Simulation sim(seed, broken);
    std::string failure = sim.run(steps);
    const Stats& s = sim.stats();
    Stats& t = out.stats;
    t.generations += s.generations, t.failovers += s.failovers, t.failed_appends += s.failed_appends;
    t.crashes += s.crashes, t.pauses += s.pauses, t.restarts += s.restarts, t.leaves += s.leaves;
    t.commits += s.commits, t.zombie_commits_refused += s.zombie_commits_refused;
    t.static_takeovers += s.static_takeovers, t.revocations += s.revocations, t.count_changes += s.count_changes;
    t.quiet_checks += s.quiet_checks;
    // A negative control wants a broken safety rule caught, not a stall.
    const bool counts = !failure.empty() && (broken == Broken::kNone || failure.find("liveness") == std::string::npos);
    if (counts && out.failures++ == 0) out.seed = seed, out.failure = failure;
    if (counts && stop_at_first) break;
  }
  testing::disable_cooperative_withholding = false;
  return out;
}

inline constexpr int kSteps = 3000;

}  // namespace

TEST_SUITE("group") {
  TEST_CASE("simulation: groups keep disjoint, complete, fenced assignments through crashes, zombies and failovers") {
    uint64_t first = 1, count = 120;
    if (const char* s = std::getenv("KREEK_GROUP_SIM_SEED")) first = std::strtoull(s, nullptr, 10), count = 1;
    if (const char* s = std::getenv("KREEK_GROUP_SIM_SEEDS")) count = std::strtoull(s, nullptr, 10);
    Outcome o = run_seeds(first, count, kSteps, Broken::kNone);
    if (o.failures != 0) FAIL("seed " << o.seed << ": " << o.failure << "\n(" << o.failures << " seeds failed)");
    const Stats& s = o.stats;
    // The runs must exercise what they claim to, or they prove nothing.
    CHECK(s.generations > static_cast<int64_t>(count) * 5);
    CHECK(s.failovers > 0);
    CHECK(s.commits > 0);
    CHECK(s.quiet_checks > 0);
    MESSAGE("group simulation: " << count << " seeds from " << first << ", " << s.generations << " generations, "
                                 << s.failovers << " failovers (" << s.failed_appends << " failed appends), "
                                 << s.crashes << " crashes, " << s.pauses << " pauses, " << s.static_takeovers
                                 << " static restarts, " << s.leaves << " leaves, " << s.count_changes
                                 << " partition-count changes, " << s.revocations << " cooperative revocations, "
                                 << s.commits << " commits, " << s.zombie_commits_refused
                                 << " zombie commits refused, " << s.quiet_checks << " quiet coverage checks");
  }

  TEST_CASE("simulation: one seed gives one run, event for event") {
    for (uint64_t seed : {3, 17, 40}) {
      Simulation a(seed, Broken::kNone), b(seed, Broken::kNone);
      CHECK(a.run(kSteps).empty());
      CHECK(b.run(kSteps).empty());
      CHECK(a.fingerprint() == b.fingerprint());
      CHECK(a.stats().generations == b.stats().generations);
    }
  }

  TEST_CASE("simulation negative control: cooperative assignment without withholding gives one partition to two members") {
    Outcome o = run_seeds(1, 100, kSteps, Broken::kNoWithholding, true);
    CHECK_MESSAGE(o.failures > 0, "handing over without withholding was never caught");
    MESSAGE("no withholding: caught at seed " << o.seed << ": " << o.failure.substr(0, o.failure.find('\n')));
  }

  TEST_CASE("simulation negative control: a coordinator timer running ahead expires members that heartbeat in time") {
    Outcome o = run_seeds(1, 50, kSteps, Broken::kTickAhead, true);
    CHECK_MESSAGE(o.failures > 0, "early expiry was never caught");
    MESSAGE("timer ahead: caught at seed " << o.seed << ": " << o.failure.substr(0, o.failure.find('\n')));
  }

  TEST_CASE("simulation negative control: a coordinator restoring generation - 1 reuses a generation") {
    Outcome o = run_seeds(1, 100, kSteps, Broken::kRestoreGenerationBack, true);
    CHECK_MESSAGE(o.failures > 0, "restoring an older generation was never caught");
    MESSAGE("generation back: caught at seed " << o.seed << ": " << o.failure.substr(0, o.failure.find('\n')));
  }
}

}  // namespace kreek::group
