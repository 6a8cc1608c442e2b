// PartitionLog, the replica's side: a follower's verbatim append of the
// leader's batch lines, the reset of a follower that fell behind the leader's
// log start, and the high watermark (kreek-format(5), REPLICATION).
#include <algorithm>
#include <cstdint>
#include <filesystem>

#include "base/atomic_file.h"
#include "base/clock.h"
#include "storage/partition_log.h"
#include "storage/segment.h"

namespace kreek::storage {

std::string PartitionLog::partition_name() const {
  std::filesystem::path p(dir_);
  if (!p.has_filename()) p = p.parent_path();
  return p.filename().string();
}

void PartitionLog::set_high_watermark(Offset hw) {
  high_watermark_ = std::max(high_watermark_, std::min(hw, log_end()));
}

void PartitionLog::restore_high_watermark(Offset hw) {
  high_watermark_ = std::clamp(hw, log_start(), log_end());
}

Result<Offset> PartitionLog::append_replicated(std::string_view lines) {
  while (!lines.empty()) {
    Offset at = log_end();
    auto bad = [&](const std::string& why) {
      return Status(Code::kCorrupt, "append replicated batch to " + partition_name() + " at offset " +
                                        std::to_string(at.value()) + ": " + why);
    };
    Result<ParsedBatch> parsed = parse_batch(lines);
    if (!parsed) {
      if (parsed.status().code() == Code::kNotFound) return bad("the bytes end inside a batch line");
      return bad(parsed.status().message());
    }
    const BatchHeader& h = parsed->header;
    at = h.base;
    if (h.base.value() > INT64_MAX - h.n) return bad("its offsets overflow");
    if (!batch_follows(log_end(), h.base, gaps_))
      return bad("it does not follow the log end " + std::to_string(log_end().value()) +
                 (h.base > log_end() ? " (offsets would be skipped)" : " (offsets are already in the log)"));
    if (h.epoch < latest_epoch())
      return bad("its epoch " + std::to_string(h.epoch.value()) + " is below the log's epoch " +
                 std::to_string(latest_epoch().value()));
    int64_t line = static_cast<int64_t>(parsed->line_bytes);
    // Positions in the indexes are u32: a segment holds at most 4 GiB.
    if (line >= static_cast<int64_t>(UINT32_MAX))
      return bad("its line of " + std::to_string(line) + " bytes does not fit a segment");
    std::string_view prefix = lines.substr(0, static_cast<size_t>(parsed->records.data() - lines.data()));
    KREEK_RETURN_IF_ERROR(roll_for(line, h.last(), h.ts));
    KREEK_RETURN_IF_ERROR(note_epoch(h.epoch, h.base));
    Segment* seg = segments_.back().get();
    seg->set_index_interval(config_.index_interval_bytes);
    // The leader's bytes, unchanged: prefix, records, "}\n".
    KREEK_RETURN_IF_ERROR(seg->append(h, prefix, parsed->records));
    last_ts_ = std::max(last_ts_, h.ts);
    last_epoch_ = h.epoch;
    observe_batch(h);  // an idempotent producer's state follows the leader's
    if (unflushed_messages_ == 0) first_unflushed_ms_ = clock::monotonic_ms();
    unflushed_messages_ += h.n;
    lines.remove_prefix(parsed->line_bytes);
  }
  return log_end();
}

Status PartitionLog::reset_to(Offset start) {
  if (start < Offset(0)) return invalid_request("reset " + partition_name() + ": offset " +
                                                std::to_string(start.value()) + " is negative");
  // A compaction planned over the old segments must not be swapped in.
  ++cleaner_.layout_version;
  cleaner_.cleaned_to = std::min(cleaner_.cleaned_to, start);
  // Newest first: a crash part way leaves a prefix of the old log, which
  // start-up recovers as it is (and the follower resets again).
  while (!segments_.empty()) {
    KREEK_RETURN_IF_ERROR(segments_.back()->remove_files());
    segments_.pop_back();
  }
  KREEK_ASSIGN_OR_RETURN(auto seg, Segment::create(dir_, start, config_.index_interval_bytes));
  seg->allow_gaps(gaps_);
  segments_.push_back(std::move(seg));
  note_cut(start);
  recovery_point_ = start;
  high_watermark_ = start;
  unflushed_messages_ = 0;
  first_unflushed_ms_ = 0;
  unsynced_closed_ = false;
  last_ts_ = TimestampMs(-1);
  last_epoch_ = LeaderEpoch(-1);
  epochs_.clear();
  // Not saved yet, a stale file would only name epochs below `start`, which
  // start-up drops; the recovery point is `start` already.
  save_epochs(start);
  // The old log's producers say nothing about the leader's: start empty.
  KREEK_RETURN_IF_ERROR(drop_producer_snapshot());
  KREEK_RETURN_IF_ERROR(rebuild_producers());
  // The recovery point is `start` at once, so the removals and the new
  // segment's entry must be durable before anything relies on it.
  return sync_dir(dir_);
}

}  // namespace kreek::storage
