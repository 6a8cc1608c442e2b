// GroupState: one consumer group as its coordinator sees it — members,
// generations, the rebalance protocol (join, sync, heartbeat, leave, session
// expiry) and the committed offsets. Assignment is computed here, on the
// coordinator, when a join phase ends (members name the assignors they
// accept; the group uses the first one all of them accept).
// Pure: time comes in as `now_ms`; answers to parked joins and the record to
// persist go out as GroupEffects; the broker's GroupCoordinator does the I/O.
//
// The protocol, as Kafka's classic one:
//   join   -> parks until every known member has rejoined (or the rebalance
//             timeout removes the rest), then all joins are answered with the
//             new generation, once its group record is persisted;
//   sync   -> the member's assignment for that generation;
//   heartbeat keeps the session; REBALANCE_IN_PROGRESS says "rejoin";
//   leave  -> the member goes at once, the others rebalance.
// Cooperative assignors: members rejoin naming what they own and keep
// reading it; a partition owned by another member is withheld from its new
// owner for one generation, until the old owner has revoked it and rejoined.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "group/assignor.h"
#include "group/offset_records.h"

namespace kreek::group {

enum class GroupPhase {
  kEmpty,               // no members (it may still have committed offsets)
  kPreparingRebalance,  // a join phase: waiting for members to (re)join
  kStable,              // every member has its assignment for the generation
  kDead,                // deleted, or moved to another coordinator
};
std::string_view phase_name(GroupPhase phase);  // "Empty", "PreparingRebalance", "Stable", "Dead"

// The broker's limits (kbroker flags).
struct GroupLimits {
  int64_t min_session_timeout_ms = 1000;
  int64_t max_session_timeout_ms = 300000;
  // A join phase of an Empty group waits this long for more members
  // (Kafka's group.initial.rebalance.delay.ms), so members started together
  // do not cause one rebalance each.
  int64_t initial_rebalance_delay_ms = 0;
  int max_members = 1000;
};

struct JoinRequest {
  std::string member_id;    // "" for a new member: one is made and returned
  std::string instance_id;  // "" unless static membership
  std::string client_id;
  std::string host;
  std::vector<std::string> topics;     // non-empty
  std::vector<std::string> assignors;  // non-empty, in preference order
  PartitionSet owned;                  // what the member holds now (cooperative)
  int64_t session_timeout_ms = 10000;
  int64_t rebalance_timeout_ms = 30000;
};

// The answer to one parked join, matched by the ticket the broker gave.
struct JoinAnswer {
  uint64_t ticket = 0;
  Status status;  // OK, or why the member was not taken
  int32_t generation = -1;
  std::string member_id;
  std::string assignor;
};

// What a call asks of the broker, in this order: persist `record` (acks=all
// on the group's offsets partition), then send `joins`. If the record cannot
// be persisted, each join gets NOT_COORDINATOR instead and the broker drops
// the group (the next coordinator rebuilds it from what was persisted).
// Answers whose status is not OK never wait for a record.
struct GroupEffects {
  std::vector<JoinAnswer> joins;
  std::optional<GroupRecord> record;
};

struct Member {
  std::string id;
  std::string instance_id;
  std::string client_id;
  std::string host;
  std::vector<std::string> topics;
  std::vector<std::string> assignors;
  int64_t session_timeout_ms = 0;
  int64_t rebalance_timeout_ms = 0;
  PartitionSet owned;       // as last reported in a join
  PartitionSet assignment;  // for the current generation
  int64_t last_heard_ms = 0;
  std::optional<uint64_t> join_ticket;  // set while its join is parked
};

class GroupState {
 public:
  GroupState(std::string name, GroupLimits limits);

  const std::string& name() const { return name_; }
  GroupPhase phase() const { return phase_; }
  int32_t generation() const { return generation_; }
  const std::string& assignor() const { return assignor_; }  // "" before the first generation
  const std::map<std::string, Member>& members() const { return members_; }
  const std::map<TopicPartition, CommittedOffset>& offsets() const { return offsets_; }

  // A join. Its answer comes through `out.joins` with `ticket`: now (an
  // error, or a static member rejoining a Stable group unchanged, which gets
  // the current generation back if the group's assignment is complete) or
  // when the join phase ends (a later call).
  // Errors: INVALID_REQUEST (session timeout outside the limits: the message
  // names them; an unknown assignor), UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
  // INCONSISTENT_GROUP_PROTOCOL (no assignor shared with the group),
  // COORDINATOR_NOT_AVAILABLE (max_members reached).
  void join(const JoinRequest& req, uint64_t ticket, int64_t now_ms, const PartitionCounts& counts,
            GroupEffects& out);
  // The member's assignment for `generation`. ILLEGAL_GENERATION,
  // UNKNOWN_MEMBER_ID, or REBALANCE_IN_PROGRESS (a join phase is running).
  Result<PartitionSet> sync(const std::string& member_id, int32_t generation, int64_t now_ms);
  // Keeps the member's session. REBALANCE_IN_PROGRESS: rejoin (the session
  // is kept all the same); ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID.
  Status heartbeat(const std::string& member_id, int32_t generation, int64_t now_ms);
  // The member leaves now (UNKNOWN_MEMBER_ID if it is not one); the others rebalance.
  Status leave(const std::string& member_id, int64_t now_ms, const PartitionCounts& counts,
               GroupEffects& out);

  // May this commit be written? OK for a member of the current generation
  // (also while a join phase runs, so cooperative members can commit what
  // they revoke), and for member "" with generation -1 while the group has
  // no members (admin resets, simple consumers). Else ILLEGAL_GENERATION,
  // UNKNOWN_MEMBER_ID, or GROUP_NOT_EMPTY for member "" of a live group.
  // A member's commit keeps its session.
  Status check_commit(const std::string& member_id, int32_t generation, int64_t now_ms);
  // A commit was replicated (or read back from the offsets topic).
  void apply_offset(const TopicPartition& tp, const CommittedOffset& offset);
  void remove_offset(const TopicPartition& tp);

  // Time passed: ends a join phase whose delay or rebalance timeout ran out
  // (members that did not rejoin are removed), and removes members whose
  // session ran out (a Stable group then rebalances). It also does what
  // on_partition_counts does, so pass the real counts.
  void tick(int64_t now_ms, const PartitionCounts& counts, GroupEffects& out);
  // The earliest now_ms at which tick() has something to do; INT64_MAX if none.
  int64_t next_deadline_ms() const;
  // Partition counts changed (a topic created, deleted or grown): a Stable
  // group subscribed to a changed topic rebalances.
  void on_partition_counts(const PartitionCounts& counts, int64_t now_ms, GroupEffects& out);

  // GROUP_NOT_EMPTY while it has members; then OK and the group is Dead.
  Status mark_deleted();
  // Rebuilds from the group's latest record in the offsets topic: Stable (or
  // Empty) at its generation; every member's session starts at `now_ms`.
  // The next generation is record.generation + 1, so none is ever reused.
  void restore(const GroupRecord& record, int64_t now_ms);
  // The record describing the group now (what restore() takes).
  GroupRecord to_record() const;

 private:
  std::string name_;
  GroupLimits limits_;
  GroupPhase phase_ = GroupPhase::kEmpty;
  int32_t generation_ = 0;
  std::string assignor_;
  std::map<std::string, Member> members_;  // by member id
  std::map<TopicPartition, CommittedOffset> offsets_;
  int64_t phase_deadline_ms_ = 0;  // kPreparingRebalance: when the join phase ends at the latest
  // The join phase of an Empty group waits out initial_rebalance_delay_ms
  // even when every member is in.
  bool initial_phase_ = false;
  // Partition counts of the subscribed topics when the assignment was made;
  // nullopt after restore (the first on_partition_counts compares coverage).
  std::optional<PartitionCounts> assigned_counts_;
  // Member ids replaced by a static member's restart: they get
  // FENCED_INSTANCE_ID, not UNKNOWN_MEMBER_ID (bounded; oldest dropped).
  std::map<std::string, uint64_t> fenced_;  // member id -> takeover sequence
  uint64_t ids_made_ = 0;                   // member ids and takeovers so far: the id source's counter

  std::string make_member_id(const JoinRequest& req, int64_t now_ms);
  Status known_member(const std::string& member_id, const char* op) const;
  void start_join_phase(int64_t now_ms, const PartitionCounts& counts, GroupEffects& out);
  void maybe_end_join_phase(int64_t now_ms, const PartitionCounts& counts, GroupEffects& out);
  void end_join_phase(int64_t now_ms, const PartitionCounts& counts, GroupEffects& out);
  PartitionSet assigned_partitions() const;
  PartitionSet subscribed_partitions(const PartitionCounts& counts) const;
  // Do the subscribed topics' counts differ from the assignment's?
  bool counts_changed(const PartitionCounts& counts);
  void after_removal(int64_t now_ms, const PartitionCounts& counts, GroupEffects& out);
  void become_empty(GroupEffects& out);
};

// Test-only: rules the simulation breaks on purpose, to show that its
// checker catches the breach. Never set outside tests.
namespace testing {
inline bool disable_cooperative_withholding = false;
}  // namespace testing

}  // namespace kreek::group
