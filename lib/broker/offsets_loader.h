// Reading a group coordinator's state back from its __consumer_offsets
// partition: every record from the log's start to its end, the last value per
// key winning and a tombstone deleting, as compaction would leave it. A broker
// that becomes the partition's leader rebuilds its groups from this.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/status.h"
#include "group/group.h"

namespace kreek::storage {
class PartitionLog;
}

namespace kreek::broker {

// One group as the offsets partition holds it.
struct LoadedGroup {
  std::optional<group::GroupRecord> record;  // its membership record, if any survives
  std::map<group::TopicPartition, group::CommittedOffset> offsets;
};

struct LoadedPartition {
  std::map<std::string, LoadedGroup> groups;
  int64_t records = 0;  // records read
  int64_t skipped = 0;  // records that were not offsets-topic records (logged, ignored)
};

// Reads `log` from its start to its end (the leader's whole log: records
// above the high watermark are this leader's and will be committed by it).
// `only_group` non-empty: keeps that group's records alone. kCorrupt or
// kIoError if the log cannot be read; records whose key or value does not
// decode are counted in `skipped` (a damaged record must not stop a group
// coordinator from serving the partition's other groups).
Result<LoadedPartition> load_offsets_partition(const storage::PartitionLog& log,
                                               const std::string& only_group = "");

}  // namespace kreek::broker
