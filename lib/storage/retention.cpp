// Retention and time-based rolling: whole closed segments are deleted, oldest
// first, once their newest batch is older than retention.ms or the partition
// is over retention.bytes without them; the log start moves to what remains.
#include "storage/partition_log.h"
#include "storage/segment.h"

namespace kreek::storage {

Status PartitionLog::delete_front_segment() {
  // Unlink only: a FileSlice in flight holds the Segment, and so its descriptor.
  KREEK_RETURN_IF_ERROR(segments_.front()->remove_files());
  segments_.erase(segments_.begin());
  return Status::ok();
}

Result<int> PartitionLog::enforce_retention(TimestampMs now) {
  if (!config_.cleanup_delete) return 0;
  int deleted = 0;
  // Never the active (last) segment.
  if (config_.retention_ms != kNever) {
    while (segments_.size() > 1) {
      KREEK_ASSIGN_OR_RETURN(TimestampMs newest, segments_.front()->max_timestamp());
      if (now.value() - newest.value() <= config_.retention_ms) break;
      KREEK_RETURN_IF_ERROR(delete_front_segment());
      ++deleted;
    }
  }
  if (config_.retention_bytes != kNever) {
    int64_t total = size_bytes();
    while (segments_.size() > 1 && total - segments_.front()->size() >= config_.retention_bytes) {
      total -= segments_.front()->size();
      KREEK_RETURN_IF_ERROR(delete_front_segment());
      ++deleted;
    }
  }
  return deleted;
}

Status PartitionLog::roll_if_due(TimestampMs now) {
  if (config_.segment_ms == kNever) return Status::ok();
  Segment& active = *segments_.back();
  if (active.is_empty()) return Status::ok();
  KREEK_ASSIGN_OR_RETURN(TimestampMs first, active.first_timestamp());
  if (now.value() - first.value() <= config_.segment_ms) return Status::ok();
  return roll();
}

}  // namespace kreek::storage
