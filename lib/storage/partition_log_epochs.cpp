// PartitionLog's leader epoch history: recording new epochs as batches and
// leaders arrive, answering where an epoch ended, and keeping
// <dir>/leader-epoch-checkpoint in step (loaded and repaired at open, written
// atomically on every change; epochs change rarely).
#include <algorithm>

#include "base/atomic_file.h"
#include "base/log.h"
#include "storage/batch_scanner.h"
#include "storage/partition_log.h"
#include "storage/data_dir.h"
#include "storage/segment.h"

namespace kreek::storage {

LeaderEpoch PartitionLog::latest_epoch() const { return epochs_.latest_epoch(); }

EpochEnd PartitionLog::end_offset_for_epoch(LeaderEpoch e) const {
  return epochs_.end_offset_for(e, log_end());
}

Status PartitionLog::write_epochs() {
  return write_file_atomically(dir_ + "/" + std::string(kEpochCheckpointName), epochs_.encode());
}

void PartitionLog::save_epochs(Offset from) {
  Status s = write_epochs();
  if (s) {
    epochs_unsaved_ = false;
    epochs_unsaved_from_ = Offset(INT64_MAX);
    return;
  }
  if (!epochs_unsaved_)
    report(partition_name() + ": " + s.message() +
           "; the epoch history is kept in memory and written again after the next flush");
  epochs_unsaved_ = true;
  epochs_unsaved_from_ = std::min(epochs_unsaved_from_, from);
}

Status PartitionLog::note_epoch(LeaderEpoch epoch, Offset start) {
  if (epoch <= epochs_.latest_epoch()) return Status::ok();
  Result<bool> changed = epochs_.assign(epoch, start);
  if (!changed) return changed.status().with_context("record epoch in " + partition_name());
  if (!*changed) return Status::ok();
  // On file before any batch of the epoch is below the recovery point: such
  // a batch is never scanned again. A log that holds no batch yet (a new
  // partition's first leader) waits for the flush that moves the recovery
  // point past `start` (end_flush writes it first): two fsyncs each kept the
  // event loop busy for seconds when thousands of partitions got leaders.
  // A crash before that flush loses an epoch that held nothing on disk, and
  // recovery finds the epochs of the batches it scans.
  if (log_end() == log_start()) {
    epochs_unsaved_ = true;
    epochs_unsaved_from_ = std::min(epochs_unsaved_from_, start);
    return Status::ok();
  }
  save_epochs(start);
  return Status::ok();
}

Status PartitionLog::assign_epoch(LeaderEpoch epoch, Offset start) {
  if (epoch < latest_epoch())
    return Status(Code::kFencedEpoch, "assign epoch " + std::to_string(epoch.value()) + " in " +
                                          partition_name() + ": the log is at epoch " +
                                          std::to_string(latest_epoch().value()));
  if (start != log_end())
    return invalid_request("assign epoch " + std::to_string(epoch.value()) + " in " + partition_name() +
                           ": start " + std::to_string(start.value()) + " is not the log end " +
                           std::to_string(log_end().value()));
  return note_epoch(epoch, start);
}

Status PartitionLog::rebuild_epochs() {
  epochs_.clear();
  for (const auto& seg : segments_) {
    if (seg->is_empty() || seg->size() == 0) continue;
    KREEK_ASSIGN_OR_RETURN(std::shared_ptr<File> file, seg->file());
    BatchScanner scan(*file, 0, BatchScanner::Mode::kBoundaries);
    ScannedBatch b;
    while (scan.next(&b)) {
      if (b.header.base >= seg->end()) break;  // bytes past what recovery kept
      if (b.header.epoch <= epochs_.latest_epoch()) continue;
      Result<bool> r = epochs_.assign(b.header.epoch, b.header.base);
      if (!r) return r.status().with_context("rebuild the epoch history of " + partition_name());
    }
    if (!scan.status().is_ok() && scan.status().code() == Code::kIoError) return scan.status();
  }
  return Status::ok();
}

Status PartitionLog::load_epochs(const std::vector<LeaderEpochCache::Entry>& recovered) {
  std::string path = dir_ + "/" + std::string(kEpochCheckpointName);
  // Kafka's text format: a few bytes per epoch; anything huge is not ours.
  Result<std::string> text = read_small_file(path, 16 << 20);
  bool rebuild = false;
  LeaderEpochCache loaded;
  if (text) {
    Result<LeaderEpochCache> decoded = LeaderEpochCache::decode(*text);
    if (decoded) {
      loaded = std::move(*decoded);
    } else {
      report(path + ": " + decoded.status().message() + "; rebuilding the epoch history from the batches");
      rebuild = true;
    }
  } else if (text.status().code() == Code::kNotFound) {
    // A new partition has nothing to rebuild, nor one whose first epoch was
    // not on file yet when it stopped (note_epoch): no flush vouched for any
    // of its batches, so recovery scanned them all. A log kept from before
    // the history existed (or whose file was lost) has.
    if (log_end() > log_start() && recovery_point_ > log_start()) {
      report(path + ": missing; rebuilding the epoch history from the batches");
      rebuild = true;
    }
  } else if (text.status().code() == Code::kCorrupt) {
    report(path + ": " + text.status().message() + "; rebuilding the epoch history from the batches");
    rebuild = true;
  } else {
    return text.status();
  }
  if (!rebuild) {
    epochs_ = loaded;
    // Entries past the log end are of batches a crash or a truncation took.
    epochs_.truncate_from_end(log_end());
    // Batches past the recovery point may be newer than the last write of the file.
    for (const auto& e : recovered) {
      if (e.epoch <= epochs_.latest_epoch()) continue;
      Result<bool> r = epochs_.assign(e.epoch, e.start);
      if (!r) {
        report(path + ": does not agree with the batches (" + r.status().message() +
               "); rebuilding the epoch history from them");
        rebuild = true;
        break;
      }
    }
  }
  // The last batch's epoch must be in it (no truncation ever drops the
  // entry a kept batch belongs to): a file that says otherwise is damaged.
  if (!rebuild && last_epoch_ >= LeaderEpoch(0) &&
      epochs_.end_offset_for(last_epoch_, log_end()).epoch != last_epoch_) {
    report(path + ": does not agree with the batches (no entry for epoch " +
           std::to_string(last_epoch_.value()) + " of the last batch); rebuilding the epoch history from them");
    rebuild = true;
  }
  if (rebuild) KREEK_RETURN_IF_ERROR(rebuild_epochs());
  epochs_.truncate_from_start(log_start());
  // A new partition gets its file with its first epoch.
  // If this fails, the next start-up finds the same file and repairs it again.
  if (rebuild || epochs_.entries() != loaded.entries()) save_epochs(Offset(INT64_MAX));
  return Status::ok();
}

}  // namespace kreek::storage
