// Retention and time-based rolling: whole segments below the high watermark
// are deleted, oldest first, once their newest batch is older than
// retention.ms or the partition is over retention.bytes without them; the log
// start moves to what remains.
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
  // Only segments wholly below the high watermark: a record not yet on every
  // in-sync replica must not vanish from the leader (nor from a follower's
  // log before its leader's). segments_[1]->base() is where the first ends.
  auto front_below_hw = [&] { return segments_.size() > 1 && segments_[1]->base() <= high_watermark_; };
  if (config_.retention_ms != kNever) {
    while (front_below_hw()) {
      KREEK_ASSIGN_OR_RETURN(TimestampMs newest, segments_.front()->max_timestamp());
      if (now.value() - newest.value() <= config_.retention_ms) break;
      KREEK_RETURN_IF_ERROR(delete_front_segment());
      ++deleted;
    }
    // A quiet partition's active segment expires as well (Kafka): roll it,
    // then it is an old closed segment like any other. Only when nothing
    // older is left, as timestamps never decrease along the log.
    Segment& active = *segments_.back();
    if (segments_.size() == 1 && !active.is_empty() && log_end() <= high_watermark_) {
      KREEK_ASSIGN_OR_RETURN(TimestampMs newest, active.max_timestamp());
      if (now.value() - newest.value() > config_.retention_ms) {
        KREEK_RETURN_IF_ERROR(roll());
        KREEK_RETURN_IF_ERROR(delete_front_segment());
        ++deleted;
      }
    }
  }
  if (config_.retention_bytes != kNever) {
    int64_t total = size_bytes();
    while (front_below_hw() && total - segments_.front()->size() >= config_.retention_bytes) {
      total -= segments_.front()->size();
      KREEK_RETURN_IF_ERROR(delete_front_segment());
      ++deleted;
    }
  }
  if (deleted > 0) {
    // The history survives retention, trimmed at the front to the log start.
    LeaderEpochCache before = epochs_;
    epochs_.truncate_from_start(log_start());
    // A stale file only has entries before the log start, which start-up trims:
    // the recovery point need not wait for it.
    if (epochs_.entries() != before.entries()) save_epochs(Offset(INT64_MAX));
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
