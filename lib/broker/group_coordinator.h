// GroupCoordinator: the broker side of consumer groups. For each partition of
// __consumer_offsets this broker leads, it holds the groups that hash there
// (a group::GroupState each): loaded from the partition's log when the
// leadership arrives, dropped when it goes. It parks joins until their join
// phase ends, writes membership records and commits to the partition with
// acks=all semantics before answering, and runs the groups' timers (session
// expiry, join-phase deadlines). Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/strong_id.h"
#include "group/group.h"
#include "net/net.h"

namespace kreek::broker {

struct BrokerContext;

class GroupCoordinator {
 public:
  using JoinDone = std::function<void(const group::JoinAnswer&)>;
  using Done = std::function<void(Status)>;
  using Offsets = std::vector<std::pair<group::TopicPartition, group::CommittedOffset>>;

  explicit GroupCoordinator(BrokerContext& ctx);  // `ctx` must outlive this
  ~GroupCoordinator();

  // The broker's limits for sessions and join phases (its flags).
  group::GroupLimits limits() const;

  // Shutdown: parked joins get NOT_COORDINATOR (their members find the
  // group's next coordinator), and the timer stops.
  void stop();

  // The metadata moved on: load the groups of offsets partitions this broker
  // now leads (or leads at a new epoch), drop those of partitions it stopped
  // leading (their parked joins get NOT_COORDINATOR), and tell every group
  // when topics' partition counts changed.
  void on_metadata();
  // A topic was deleted: its committed offsets go (tombstones), as in Kafka.
  void on_topic_deleted(const std::string& topic);

  // find_coordinator: {node, addr, partition} of the group's coordinator.
  // Creates the offsets topic first if it is missing (then `done` runs once
  // that is done). COORDINATOR_NOT_AVAILABLE while the topic or its
  // partition's leader is missing.
  void find_coordinator(const std::string& group, std::function<void(Result<nlohmann::ordered_json>)> done);

  // OK if this broker coordinates `group` and has loaded its partition;
  // else NOT_COORDINATOR (naming the coordinator), COORDINATOR_NOT_AVAILABLE
  // (no offsets topic, or its partition has no leader), or
  // COORDINATOR_LOAD_IN_PROGRESS. Every call below checks it first.
  Status check_coordinator(const std::string& group);

  // join_group: `done` runs when the join phase ends (maybe at once).
  void join(const std::string& group, group::JoinRequest req, JoinDone done);
  Result<group::PartitionSet> sync(const std::string& group, const std::string& member, int32_t generation);
  Status heartbeat(const std::string& group, const std::string& member, int32_t generation);
  Status leave(const std::string& group, const std::string& member);
  // commit_offsets: `done` once the offsets are replicated (or why not).
  // Topics must exist with the named partitions (UNKNOWN_TOPIC, UNKNOWN_PARTITION).
  void commit(const std::string& group, const std::string& member, int32_t generation, Offsets offsets, Done done);
  // delete_group: tombstones for its offsets and record, once replicated.
  void delete_group(const std::string& group, Done done);

  // The group if this broker holds it (after check_coordinator), else null.
  const group::GroupState* find(const std::string& group) const;
  // Every group this broker coordinates now, by name.
  std::vector<const group::GroupState*> groups() const;

  // Every topic's partition count, from the broker's metadata.
  group::PartitionCounts partition_counts() const;

  // Time: monotonic ms by default; tests set their own.
  void set_clock(std::function<int64_t()> now_ms) { now_ms_ = std::move(now_ms); }
  // Runs what is due: join-phase deadlines, session expiry, failed loads
  // tried again. The loop's timer calls it; so do tests.
  void tick();

 private:
  struct Part {
    LeaderEpoch epoch;
    uint64_t incarnation = 0;  // tells this leadership's callbacks from a later one's
    bool loaded = false;
    int64_t retry_ms = 0;  // a failed load is tried again at this time
    std::map<std::string, std::unique_ptr<group::GroupState>, std::less<>> groups;
  };
  struct Parked {
    int32_t part = 0;
    std::string group;
    JoinDone done;
  };
  using KeyValue = std::pair<std::string, std::optional<std::string>>;

  int32_t partition_of(const std::string& group) const;  // -1 without the offsets topic
  Part* loaded_part(const std::string& group);
  group::GroupState* lookup(const std::string& group);
  group::GroupState& get_or_create(const std::string& group);
  int64_t now() const { return now_ms_(); }

  void load(int32_t p);
  void drop(int32_t p, const std::string& why);
  // Answers the group's parked joins with `why` and reads it back from the
  // log (a write failed: memory may hold what the log does not).
  void reload_group(int32_t p, uint64_t incarnation, const std::string& group);
  void answer_parked(const std::string& group_or_all, int32_t p, const Status& why);
  // Drops a group left with neither members nor offsets (nor parked joins).
  void forget_if_unused(int32_t p, uint64_t incarnation, const std::string& group);

  // Sends the answers, after persisting the record if there is one.
  void apply_effects(const std::string& group, group::GroupEffects&& fx);
  void answer(const group::JoinAnswer& a);
  // Appends `kvs` to offsets partition `p` as this leader, then calls `done`
  // once the high watermark passed them (acks=all), or with why not.
  void append(int32_t p, std::vector<KeyValue> kvs, Done done);
  void create_offsets_topic(std::function<void(Status)> then);
  void reschedule();

  BrokerContext& ctx_;
  std::function<int64_t()> now_ms_;
  std::map<int32_t, Part> parts_;
  std::map<uint64_t, Parked> parked_;  // by join ticket
  uint64_t next_ticket_ = 1;
  uint64_t next_incarnation_ = 1;
  group::PartitionCounts counts_;  // as last told to the groups
  std::vector<std::function<void(Status)>> creating_;  // waiting for the offsets topic
  std::unique_ptr<net::Timer> timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool stopped_ = false;
};

}  // namespace kreek::broker
