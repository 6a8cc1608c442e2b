// GroupConsumer: a Consumer whose partitions come from a consumer group.
// Between fetch rounds it does the member's duties: heartbeats, commits on an
// interval, and rebalances, the eager way (flush, commit, drop everything,
// join, sync, resume from the committed offsets) or the cooperative way (keep
// reading while the join is parked; after sync flush, commit and drop only
// the revoked partitions, and rejoin at once if any were: KIP-429's second
// round). Commits cover only what the caller's flush() has written out.
// Single-threaded; `cluster` and `consumer` must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/consumer.h"
#include "client/group_member.h"

namespace kreek::client {

// Where a partition with no committed offset starts (kconsume --from / -n).
struct StartSpec {
  enum class Kind { kBeginning, kEnd, kOffset, kTime, kLast };
  Kind kind = Kind::kBeginning;
  int64_t value = 0;  // the offset, unix ms, or record count
};

struct GroupConsumerOptions {
  GroupMemberOptions member;
  // false: a bounded read; each partition stops at its high watermark as it
  // was when the partition was assigned.
  bool follow = false;
  StartSpec start;
  // A committed offset outside the log (retention moved its start).
  ResetPolicy reset = ResetPolicy::kEarliest;
  bool commit = true;
  int64_t commit_interval_ms = 5000;
  // Writes out every record delivered so far; called before each commit, so a
  // commit never runs ahead of the output. An error skips the commit.
  std::function<Status()> flush;
  std::function<void(const std::string&)> on_info;     // rebalances, assignments
  std::function<void(const std::string&)> on_warning;  // resets, failed commits
};

class GroupConsumer {
 public:
  GroupConsumer(Cluster& cluster, Consumer& consumer, GroupConsumerOptions options);

  // Finds the coordinator, joins, syncs and positions the assigned partitions.
  Status start();
  // Group duties, then one fetch round (or, with nothing to fetch, a short
  // wait for the coordinator). Errors: what the fetch returns, and group
  // errors that rejoining cannot cure (FENCED_INSTANCE_ID,
  // INCONSISTENT_GROUP_PROTOCOL, a coordinator gone past the retry budget).
  Status poll(RecordSink& sink, bool& stopped);
  // Bounded read: every assigned partition read to its stop offset, and no
  // rebalance under way that could still bring more (for cooperative groups
  // the coordinator is asked whether every partition has its owner).
  bool all_done();
  // A clean end: flush, commit what was written (if `commit`), leave (if `leave`).
  Status close(bool leave, bool commit);

  const PartitionSet& assignment() const { return owned_; }
  GroupMember& member() { return member_; }
  // Rebalances completed (generations joined), for tests and the bench.
  int rebalances() const { return rebalances_; }

 private:
  bool cooperative() const { return is_cooperative_assignor(member_.assignor()); }
  Status duties();
  Status joined();  // sync, then apply the assignment
  Status apply(const PartitionSet& target);
  Status on_group_error(Status s);
  Status commit_positions(const PartitionSet* only);
  Result<std::vector<Cursor>> positions_for(const PartitionSet& added);
  Result<std::vector<PartitionOffsets>> offsets_of(const std::string& topic, const std::vector<int32_t>& parts,
                                                   const std::string& at);
  Result<bool> settled();
  void drop(const PartitionSet& set);
  void info(const std::string& m) const {
    if (options_.on_info) options_.on_info(m);
  }
  void warn(const std::string& m) const {
    if (options_.on_warning) options_.on_warning(m);
  }

  Cluster& cluster_;
  Consumer& consumer_;
  GroupConsumerOptions options_;
  GroupMember member_;
  PartitionSet owned_;
  std::map<TopicPartition, int64_t> committed_;  // position last committed (or read back)
  int64_t next_commit_ms_ = 0;
  int32_t settled_generation_ = -1;
  int64_t next_settle_check_ms_ = 0;
  int rebalances_ = 0;
  int fetch_wait_ms_ = 500;  // the consumer's own long poll
  int depth_ = 0;  // nested rejoins, bounded
};

}  // namespace kreek::client
