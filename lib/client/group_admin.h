// Group administration, as ktopic group does it: list the groups every
// broker coordinates, describe one group with each partition's committed
// offset, end offset (the high watermark) and lag, plan and apply offset
// resets, and delete a group. Lag is computed here, from list_offsets, as
// groups.md says clients do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/cluster.h"
#include "client/group_member.h"
#include "proto/message.h"

namespace kreek::client {

// Every group of the cluster: list_groups asked of each live broker of
// describe_cluster, merged and sorted by name: [{"group","state","members"}].
// A broker that cannot be asked is added to `missed` and skipped.
Result<proto::Json> list_groups(Cluster& cluster, std::vector<Status>* missed = nullptr);

// One partition of a described group.
struct GroupPartitionRow {
  TopicPartition tp;
  std::optional<int64_t> committed;
  std::optional<int64_t> end;  // high watermark; nullopt when its leader could not be asked
  std::optional<int64_t> lag;  // end - committed, when both are known
  std::string member_id, instance_id, client_id, host;  // "" when unassigned
};

// describe_group from the coordinator, plus one row per partition of every
// topic the group reads or has offsets for. Errors: GROUP_ID_NOT_FOUND.
struct GroupDescription {
  proto::Json group;  // the coordinator's answer, less its id
  std::vector<GroupPartitionRow> partitions;
  std::vector<Status> missed;  // end offsets that could not be asked for (their rows show none)
};
Result<GroupDescription> describe_group(Cluster& cluster, const std::string& group);

// An offset reset: how each partition's new offset is chosen.
struct ResetSpec {
  enum class Kind { kEarliest, kLatest, kOffset, kTime, kShift };
  Kind kind = Kind::kEarliest;
  int64_t value = 0;  // offset, unix ms, or shift
};
struct ResetTarget {
  std::string topic;
  std::vector<int32_t> partitions;  // empty: all
};
struct ResetRow {
  TopicPartition tp;
  std::optional<int64_t> current;
  int64_t target = 0;
  int64_t log_start = 0;
  int64_t end = 0;
};
// The plan: new offsets, always inside [log start, high watermark]. Without
// targets, every topic the group has committed offsets for. Errors:
// GROUP_ID_NOT_FOUND is not one (a new group may be given offsets);
// UNKNOWN_TOPIC, UNKNOWN_PARTITION, INVALID_REQUEST (nothing to reset).
Result<std::vector<ResetRow>> plan_reset(Cluster& cluster, const std::string& group, const ResetSpec& spec,
                                         const std::vector<ResetTarget>& targets);
// Commits the plan as member "" generation -1 (refused with GROUP_NOT_EMPTY
// while the group has members).
Status apply_reset(Cluster& cluster, const std::string& group, const std::vector<ResetRow>& plan);

// The group's live members, 0 for a group that does not exist.
Result<int> group_member_count(Cluster& cluster, const std::string& group);
// Errors: GROUP_NOT_EMPTY, GROUP_ID_NOT_FOUND.
Status delete_group(Cluster& cluster, const std::string& group);

}  // namespace kreek::client
