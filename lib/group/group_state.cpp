// GroupState: the classic join/sync/heartbeat protocol with the assignment
// made here on the coordinator when a join phase ends, static membership,
// session expiry and the cooperative withholding of partitions still owned
// by another member. Pure: no clock, no I/O, no randomness but a counter.
#include "group/group_state.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <set>
#include <utility>

namespace kreek::group {
namespace {

inline constexpr size_t kMaxFencedIds = 1000;

Status error(Code code, std::string message) { return Status(code, std::move(message)); }

// FNV-1a: the member id's 16 hex digits come from the group, the client, the
// time and a counter, so tests see the same ids every run, and two ids made
// by one coordinator never collide in practice (make_member_id checks).
uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h ^ 0xff;  // a separator, so ("ab","c") and ("a","bc") differ
}

std::set<std::string> topic_set(const std::vector<std::string>& topics) { return {topics.begin(), topics.end()}; }

bool lists(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::string_view phase_name(GroupPhase phase) {
  switch (phase) {
    case GroupPhase::kEmpty: return "Empty";
    case GroupPhase::kPreparingRebalance: return "PreparingRebalance";
    case GroupPhase::kStable: return "Stable";
    case GroupPhase::kDead: return "Dead";
  }
  return "Dead";
}

GroupState::GroupState(std::string name, GroupLimits limits) : name_(std::move(name)), limits_(limits) {}

std::string GroupState::make_member_id(const JoinRequest& req, int64_t now_ms) {
  const std::string prefix = req.client_id.empty() ? "member" : req.client_id;
  for (;;) {
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv1a(h, name_);
    h = fnv1a(h, req.client_id);
    h = fnv1a(h, req.instance_id);
    h = fnv1a(h, std::to_string(now_ms) + "/" + std::to_string(generation_) + "/" + std::to_string(++ids_made_));
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, h);
    std::string id = prefix + "-" + hex;
    if (!members_.count(id) && !fenced_.count(id)) return id;
  }
}

Status GroupState::known_member(const std::string& member_id, const char* op) const {
  if (fenced_.count(member_id))
    return error(Code::kFencedInstanceId, std::string(op) + " group " + name_ + ": member " + member_id +
                                              " was replaced by a newer member with its instance id");
  if (!members_.count(member_id))
    return error(Code::kUnknownMember, std::string(op) + " group " + name_ + ": unknown member " + member_id);
  return Status::ok();
}

void GroupState::join(const JoinRequest& req, uint64_t ticket, int64_t now_ms, const PartitionCounts& counts,
                      GroupEffects& out) {
  auto refuse = [&](Status s) { out.joins.push_back(JoinAnswer{ticket, std::move(s), -1, req.member_id, ""}); };
  const std::string what = "join group " + name_;
  if (phase_ == GroupPhase::kDead) return refuse(error(Code::kCoordinatorNotAvailable, what + ": group is deleted"));
  if (req.session_timeout_ms < limits_.min_session_timeout_ms ||
      req.session_timeout_ms > limits_.max_session_timeout_ms)
    return refuse(invalid_request(what + ": session timeout " + std::to_string(req.session_timeout_ms) +
                                  " ms outside the broker's limits " +
                                  std::to_string(limits_.min_session_timeout_ms) + " to " +
                                  std::to_string(limits_.max_session_timeout_ms) + " ms"));
  if (req.rebalance_timeout_ms <= 0) return refuse(invalid_request(what + ": rebalance timeout must be positive"));
  if (req.topics.empty()) return refuse(invalid_request(what + ": no topics"));
  if (req.assignors.empty()) return refuse(invalid_request(what + ": no assignors"));
  for (const std::string& a : req.assignors)
    if (!assignor_from_name(a)) return refuse(invalid_request(what + ": unknown assignor \"" + a + "\""));

  // Who is this? A known member, a static member's restart, or someone new.
  std::string id = req.member_id;
  std::string replaced;  // a static member's previous member id
  if (!id.empty()) {
    if (Status s = known_member(id, "join"); !s.is_ok()) return refuse(s);
    if (members_.at(id).instance_id != req.instance_id)
      return refuse(error(Code::kFencedInstanceId, what + ": member " + id + " has another instance id"));
  } else if (!req.instance_id.empty()) {
    for (const auto& [mid, m] : members_)
      if (m.instance_id == req.instance_id) replaced = mid;
  }
  if (id.empty() && replaced.empty() && static_cast<int>(members_.size()) >= limits_.max_members)
    return refuse(error(Code::kCoordinatorNotAvailable,
                        what + ": the group has its maximum of " + std::to_string(limits_.max_members) + " members"));
  // The joiner must share an assignor with every other member.
  for (const auto& [mid, m] : members_) {
    if (mid == id || mid == replaced) continue;
    bool shared = false;
    for (const std::string& a : req.assignors) shared = shared || lists(m.assignors, a);
    if (!shared)
      return refuse(error(Code::kInconsistentGroupProtocol,
                          what + ": no assignor in common with member " + mid));
  }

  if (!replaced.empty()) {
    // A static member restarted: it takes over its old entry, and the old
    // member id is fenced from now on.
    Member m = std::move(members_.at(replaced));
    members_.erase(replaced);
    if (m.join_ticket)
      out.joins.push_back(JoinAnswer{*m.join_ticket,
                                     error(Code::kFencedInstanceId, what + ": member " + replaced +
                                                                        " was replaced by a newer member with its instance id"),
                                     -1, replaced, ""});
    m.join_ticket.reset();
    id = make_member_id(req, now_ms);
    fenced_[replaced] = ids_made_;
    if (fenced_.size() > kMaxFencedIds) {
      auto oldest = std::min_element(fenced_.begin(), fenced_.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; });
      fenced_.erase(oldest);
    }
    const bool unchanged = topic_set(m.topics) == topic_set(req.topics) && lists(req.assignors, assignor_);
    m.id = id;
    members_[id] = std::move(m);
    // Only a complete assignment is kept as it is: with partitions withheld
    // (the old process died before revoking and rejoining) or counts
    // changed, the group needs its next round.
    if (phase_ == GroupPhase::kStable && unchanged && assigned_partitions() == subscribed_partitions(counts)) {
      Member& mm = members_[id];
      mm.client_id = req.client_id;
      mm.host = req.host;
      mm.assignors = req.assignors;
      mm.session_timeout_ms = req.session_timeout_ms;
      mm.rebalance_timeout_ms = req.rebalance_timeout_ms;
      mm.owned = mm.assignment;
      mm.last_heard_ms = now_ms;
      // Its old assignment at the current generation, no rebalance; the
      // record carries the new member id so a new coordinator knows it.
      out.record = to_record();
      out.joins.push_back(JoinAnswer{ticket, Status::ok(), generation_, id, assignor_});
      return;
    }
  } else if (id.empty()) {
    id = make_member_id(req, now_ms);
    members_[id].id = id;
  }

  Member& m = members_.at(id);
  if (m.join_ticket)  // the member asked again (say, over a new connection): the old ask is void
    out.joins.push_back(JoinAnswer{*m.join_ticket,
                                   error(Code::kRebalanceInProgress, what + ": superseded by a newer join"), -1, id,
                                   ""});
  m.instance_id = req.instance_id;
  m.client_id = req.client_id;
  m.host = req.host;
  m.topics = req.topics;
  m.assignors = req.assignors;
  m.owned = req.owned;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.last_heard_ms = now_ms;
  m.join_ticket = ticket;
  if (phase_ != GroupPhase::kPreparingRebalance) start_join_phase(now_ms, counts, out);
  maybe_end_join_phase(now_ms, counts, out);
}

void GroupState::start_join_phase(int64_t now_ms, const PartitionCounts& counts, GroupEffects& out) {
  if (members_.empty()) return become_empty(out);
  initial_phase_ = phase_ == GroupPhase::kEmpty;
  int64_t wait = limits_.initial_rebalance_delay_ms;
  if (!initial_phase_) {
    wait = 0;
    for (const auto& [id, m] : members_) wait = std::max(wait, m.rebalance_timeout_ms);
  }
  phase_ = GroupPhase::kPreparingRebalance;
  phase_deadline_ms_ = now_ms + wait;
}

void GroupState::maybe_end_join_phase(int64_t now_ms, const PartitionCounts& counts, GroupEffects& out) {
  if (phase_ != GroupPhase::kPreparingRebalance) return;
  bool all_in = !initial_phase_;
  for (const auto& [id, m] : members_) all_in = all_in && m.join_ticket.has_value();
  if (all_in || now_ms >= phase_deadline_ms_) end_join_phase(now_ms, counts, out);
}

void GroupState::become_empty(GroupEffects& out) {
  // Emptying ends the generation too, so the last members' commits are fenced.
  ++generation_;
  phase_ = GroupPhase::kEmpty;
  assignor_.clear();
  initial_phase_ = false;
  assigned_counts_.reset();
  out.record = to_record();
}

void GroupState::end_join_phase(int64_t now_ms, const PartitionCounts& counts, GroupEffects& out) {
  // Members that did not rejoin in time are out.
  for (auto it = members_.begin(); it != members_.end();) it = it->second.join_ticket ? std::next(it) : members_.erase(it);
  if (members_.empty()) return become_empty(out);

  std::vector<const Member*> order;
  for (const auto& [id, m] : members_) order.push_back(&m);
  auto key = [](const Member* m) -> const std::string& { return m->instance_id.empty() ? m->id : m->instance_id; };
  std::sort(order.begin(), order.end(),
            [&](const Member* a, const Member* b) { return std::tie(key(a), a->id) < std::tie(key(b), b->id); });
  // The first assignor, in the first member's order, that every member lists.
  std::string chosen;
  for (const std::string& a : order.front()->assignors) {
    bool everyone = true;
    for (const Member* m : order) everyone = everyone && lists(m->assignors, a);
    if (everyone) {
      chosen = a;
      break;
    }
  }
  if (chosen.empty()) {
    // Unreachable while join() checks each joiner against the others; if it
    // ever happens, the members without the first member's choice are refused.
    chosen = order.front()->assignors.front();
    for (auto it = members_.begin(); it != members_.end();) {
      if (lists(it->second.assignors, chosen)) {
        ++it;
        continue;
      }
      out.joins.push_back(JoinAnswer{*it->second.join_ticket,
                                     error(Code::kInconsistentGroupProtocol,
                                           "join group " + name_ + ": no assignor in common with the group"),
                                     -1, it->first, ""});
      it = members_.erase(it);
    }
  }
  const AssignorKind kind = *assignor_from_name(chosen);
  const bool cooperative = is_cooperative(kind);

  std::vector<MemberSubscription> subs;
  std::map<TopicPartition, std::vector<std::string>> claims;  // cooperative: who reports owning what
  for (const auto& [id, m] : members_) {
    // Eager members dropped everything before rejoining, so their reports
    // mean nothing; stickiness comes from the previous assignment instead.
    subs.push_back(MemberSubscription{id, m.instance_id, m.topics, cooperative ? m.owned : m.assignment});
    if (cooperative)
      for (const TopicPartition& tp : m.owned) claims[tp].push_back(id);
  }
  Assignments target = assign(kind, subs, counts);

  ++generation_;
  assignor_ = chosen;
  phase_ = GroupPhase::kStable;
  initial_phase_ = false;
  assigned_counts_ = PartitionCounts{};
  for (const auto& [id, m] : members_)
    for (const std::string& t : m.topics)
      if (auto it = counts.find(t); it != counts.end()) (*assigned_counts_)[t] = it->second;
  for (auto& [id, m] : members_) {
    PartitionSet mine = std::move(target[id]);
    if (cooperative && !testing::disable_cooperative_withholding) {
      // KIP-429: a partition another member still reads is withheld until
      // that member has revoked it and rejoined (the next generation).
      for (auto it = mine.begin(); it != mine.end();) {
        auto c = claims.find(*it);
        bool other = false;
        if (c != claims.end())
          for (const std::string& owner : c->second) other = other || owner != id;
        it = other ? mine.erase(it) : std::next(it);
      }
    }
    m.assignment = std::move(mine);
    m.last_heard_ms = now_ms;  // its session runs from the answer, not from its join
    out.joins.push_back(JoinAnswer{*m.join_ticket, Status::ok(), generation_, id, assignor_});
    m.join_ticket.reset();
  }
  out.record = to_record();
}

Result<PartitionSet> GroupState::sync(const std::string& member_id, int32_t generation, int64_t now_ms) {
  KREEK_RETURN_IF_ERROR(known_member(member_id, "sync"));
  Member& m = members_.at(member_id);
  m.last_heard_ms = now_ms;
  if (phase_ == GroupPhase::kPreparingRebalance)
    return error(Code::kRebalanceInProgress, "sync group " + name_ + ": the group is rebalancing: rejoin");
  if (generation != generation_)
    return error(Code::kIllegalGeneration, "sync group " + name_ + ": generation " + std::to_string(generation) +
                                               " is not the group's " + std::to_string(generation_));
  return m.assignment;
}

Status GroupState::heartbeat(const std::string& member_id, int32_t generation, int64_t now_ms) {
  KREEK_RETURN_IF_ERROR(known_member(member_id, "heartbeat"));
  members_.at(member_id).last_heard_ms = now_ms;
  if (phase_ == GroupPhase::kPreparingRebalance)
    return error(Code::kRebalanceInProgress, "heartbeat group " + name_ + ": the group is rebalancing: rejoin");
  if (generation != generation_)
    return error(Code::kIllegalGeneration, "heartbeat group " + name_ + ": generation " +
                                               std::to_string(generation) + " is not the group's " +
                                               std::to_string(generation_));
  return Status::ok();
}

Status GroupState::leave(const std::string& member_id, int64_t now_ms, const PartitionCounts& counts,
                         GroupEffects& out) {
  KREEK_RETURN_IF_ERROR(known_member(member_id, "leave"));
  Member& m = members_.at(member_id);
  if (m.join_ticket)
    out.joins.push_back(JoinAnswer{*m.join_ticket,
                                   error(Code::kUnknownMember, "join group " + name_ + ": member " + member_id + " left"),
                                   -1, member_id, ""});
  members_.erase(member_id);
  after_removal(now_ms, counts, out);
  return Status::ok();
}

void GroupState::after_removal(int64_t now_ms, const PartitionCounts& counts, GroupEffects& out) {
  if (phase_ == GroupPhase::kStable) start_join_phase(now_ms, counts, out);
  else if (phase_ == GroupPhase::kPreparingRebalance && members_.empty()) become_empty(out);
  maybe_end_join_phase(now_ms, counts, out);
}

Status GroupState::check_commit(const std::string& member_id, int32_t generation, int64_t now_ms) {
  const std::string what = "commit offsets for group " + name_;
  if (member_id.empty()) {
    if (generation != -1)
      return error(Code::kUnknownMember, what + ": a commit without a member id takes generation -1");
    if (!members_.empty())
      return error(Code::kGroupNotEmpty, what + ": the group has " + std::to_string(members_.size()) +
                                             " members; only they may commit");
    return Status::ok();
  }
  KREEK_RETURN_IF_ERROR(known_member(member_id, "commit offsets for"));
  Member& m = members_.at(member_id);
  m.last_heard_ms = now_ms;
  if (generation != generation_)
    return error(Code::kIllegalGeneration, what + ": generation " + std::to_string(generation) +
                                               " is not the group's " + std::to_string(generation_));
  return Status::ok();
}

void GroupState::apply_offset(const TopicPartition& tp, const CommittedOffset& offset) { offsets_[tp] = offset; }

void GroupState::remove_offset(const TopicPartition& tp) { offsets_.erase(tp); }

void GroupState::tick(int64_t now_ms, const PartitionCounts& counts, GroupEffects& out) {
  bool removed = false;
  for (auto it = members_.begin(); it != members_.end();) {
    const Member& m = it->second;
    // A parked join keeps its member: the client waits for the answer.
    if (!m.join_ticket && now_ms - m.last_heard_ms > m.session_timeout_ms) {
      it = members_.erase(it);
      removed = true;
    } else {
      ++it;
    }
  }
  if (removed) after_removal(now_ms, counts, out);
  maybe_end_join_phase(now_ms, counts, out);
  // The broker also says when counts change; this catches a change it
  // reported before a restore, or never.
  on_partition_counts(counts, now_ms, out);
}

int64_t GroupState::next_deadline_ms() const {
  int64_t at = std::numeric_limits<int64_t>::max();
  if (phase_ == GroupPhase::kPreparingRebalance) at = phase_deadline_ms_;
  for (const auto& [id, m] : members_)
    if (!m.join_ticket) at = std::min(at, m.last_heard_ms + m.session_timeout_ms + 1);
  return at;
}

void GroupState::on_partition_counts(const PartitionCounts& counts, int64_t now_ms, GroupEffects& out) {
  // A join phase uses the counts it ends with.
  if (phase_ == GroupPhase::kStable && counts_changed(counts)) start_join_phase(now_ms, counts, out);
}

PartitionSet GroupState::assigned_partitions() const {
  PartitionSet out;
  for (const auto& [id, m] : members_) out.insert(m.assignment.begin(), m.assignment.end());
  return out;
}

PartitionSet GroupState::subscribed_partitions(const PartitionCounts& counts) const {
  PartitionSet out;
  for (const auto& [id, m] : members_)
    for (const std::string& t : m.topics)
      if (auto it = counts.find(t); it != counts.end())
        for (int32_t p = 0; p < it->second; ++p) out.insert({t, p});
  return out;
}

bool GroupState::counts_changed(const PartitionCounts& counts) {
  PartitionCounts now;
  for (const auto& [id, m] : members_)
    for (const std::string& t : m.topics)
      if (auto it = counts.find(t); it != counts.end()) now[t] = it->second;
  if (assigned_counts_) return now != *assigned_counts_;
  // Restored: the counts the assignment was made with are not kept, so
  // compare what is assigned with what exists.
  if (assigned_partitions() != subscribed_partitions(counts)) return true;
  assigned_counts_ = std::move(now);
  return false;
}

Status GroupState::mark_deleted() {
  if (!members_.empty())
    return error(Code::kGroupNotEmpty, "delete group " + name_ + ": the group has " +
                                           std::to_string(members_.size()) + " members");
  phase_ = GroupPhase::kDead;
  offsets_.clear();
  return Status::ok();
}

void GroupState::restore(const GroupRecord& record, int64_t now_ms) {
  members_.clear();
  fenced_.clear();
  generation_ = record.generation;
  assignor_ = record.assignor;
  for (const MemberRecord& r : record.members) {
    Member m;
    m.id = r.member_id;
    m.instance_id = r.instance_id;
    m.client_id = r.client_id;
    m.host = r.host;
    m.topics = r.topics;
    m.assignors = r.assignors;
    m.session_timeout_ms = r.session_timeout_ms;
    m.rebalance_timeout_ms = r.rebalance_timeout_ms;
    m.assignment = r.assignment;
    m.owned = r.assignment;
    m.last_heard_ms = now_ms;
    members_[m.id] = std::move(m);
  }
  phase_ = members_.empty() ? GroupPhase::kEmpty : GroupPhase::kStable;
  if (members_.empty()) assignor_.clear();
  initial_phase_ = false;
  assigned_counts_.reset();
}

GroupRecord GroupState::to_record() const {
  GroupRecord r;
  r.group = name_;
  r.generation = generation_;
  r.assignor = members_.empty() ? "" : assignor_;
  for (const auto& [id, m] : members_)
    r.members.push_back(MemberRecord{m.id, m.instance_id, m.client_id, m.host, m.topics, m.assignors,
                                     m.session_timeout_ms, m.rebalance_timeout_ms, m.assignment});
  return r;
}

}  // namespace kreek::group
