// The internal offsets topic: where groups keep their committed offsets and
// their membership, as records of a compacted, replicated topic. A group's
// coordinator is the leader of the partition the group hashes to; a broker
// that becomes that leader rebuilds the group from the partition's records.
// Keys are canonical JSON (fixed field order) so compaction keeps the latest
// value per key; a null value (tombstone) deletes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "group/assignor.h"

namespace kreek::group {

inline constexpr std::string_view kOffsetsTopic = "__consumer_offsets";

// The offsets topic's partition for a group: murmur2 as for record keys,
// made positive, modulo the partition count.
int32_t group_partition(std::string_view group, int32_t partitions);
// "" if `group` is a valid group name (the topic-name rule: 1 to 249 of
// [A-Za-z0-9._-], not "." or ".."), else a one-line problem.
std::string group_name_problem(std::string_view group);

struct CommittedOffset {
  int64_t offset = 0;
  std::string metadata;    // free text the committer chose ("" usually)
  int64_t commit_ts_ms = 0;
};

// One member as the group record keeps it.
struct MemberRecord {
  std::string member_id;
  std::string instance_id;
  std::string client_id;
  std::string host;
  std::vector<std::string> topics;
  std::vector<std::string> assignors;
  int64_t session_timeout_ms = 0;
  int64_t rebalance_timeout_ms = 0;
  PartitionSet assignment;
};

// A group's membership after a completed join phase (or once it emptied).
struct GroupRecord {
  std::string group;
  int32_t generation = 0;
  std::string assignor;  // "" while the group has no members
  std::vector<MemberRecord> members;
};

// Keys: {"v":1,"group":G,"topic":T,"partition":P} and {"v":1,"group":G}.
// Values: {"v":1,"offset":O,"metadata":M,"commit_ts_ms":T} and
// {"v":1,"generation":G,"assignor":A,"members":[{"member_id","instance_id",
// "client_id","host","topics","assignors","session_timeout_ms",
// "rebalance_timeout_ms","assignment":[{"topic":T,"partitions":[P,...]}]}]}.
std::string offset_key(std::string_view group, const TopicPartition& tp);
std::string group_key(std::string_view group);
std::string encode_offset(const CommittedOffset& offset);
std::string encode_group(const GroupRecord& record);

// One record of the offsets topic, decoded. A tombstone has no value.
struct OffsetsTopicRecord {
  enum class Kind { kOffset, kGroup } kind = Kind::kOffset;
  std::string group;
  TopicPartition tp;                      // kOffset
  std::optional<CommittedOffset> offset;  // kOffset; nullopt: deleted
  std::optional<GroupRecord> record;      // kGroup; nullopt: deleted
};
// CORRUPT_RECORD for a key or value that is not one of the above.
Result<OffsetsTopicRecord> decode_record(std::string_view key, std::optional<std::string_view> value);

}  // namespace kreek::group
