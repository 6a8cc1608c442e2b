// PartitionLog's idempotent-producer state: taken in batch by batch as they are
// appended (observe_batch), saved to <dir>/producer-snapshot when the log is
// flushed, and rebuilt at open and after truncation from that snapshot plus
// the batches after it (the whole log when there is no usable snapshot).
// Limitation: only flush() (tests, clean shutdown) writes the snapshot, so the
// start after a crash reads every batch since the last clean shutdown.
#include <errno.h>
#include <unistd.h>

#include "base/atomic_file.h"
#include "storage/batch_scanner.h"
#include "storage/partition_log.h"
#include "storage/segment.h"

namespace kreek::storage {

std::string PartitionLog::producer_snapshot_path() const {
  return dir_ + "/" + std::string(kProducerSnapshotName);
}

void PartitionLog::observe_batch(const BatchHeader& h) { producers_.update(h); }

Status PartitionLog::write_producer_snapshot() {
  // Written even when empty: it is what spares the next start a scan of
  // every batch, idempotent or not.
  KREEK_RETURN_IF_ERROR(write_file_atomically(producer_snapshot_path(), producers_.encode_snapshot(log_end())));
  has_producer_snapshot_ = true;
  return Status::ok();
}

Status PartitionLog::drop_producer_snapshot() {
  std::string path = producer_snapshot_path();
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_status("unlink", path, errno);
  has_producer_snapshot_ = false;
  return Status::ok();
}

Status PartitionLog::rebuild_producers() {
  producers_.clear();
  Offset from = log_start();
  auto text = read_small_file(producer_snapshot_path(), 64 << 20);
  has_producer_snapshot_ = text.is_ok();
  if (text.is_ok()) {
    Offset at;
    auto snap = ProducerState::decode_snapshot(*text, &at);
    if (!snap.is_ok()) {
      report(producer_snapshot_path() + ": " + snap.status().message() + "; rebuilding from the log");
    } else if (at > log_end()) {
      // The log lost batches the snapshot saw (a torn tail, a truncation):
      // it describes a log that no longer exists. It goes, or later appends
      // would carry the log end past it and make it look usable again.
      KREEK_RETURN_IF_ERROR(drop_producer_snapshot());
    } else {
      producers_ = std::move(*snap);
      from = std::max(from, at);
    }
  } else if (text.status().code() != Code::kNotFound) {
    report(producer_snapshot_path() + ": " + text.status().message() + "; rebuilding from the log");
  }
  return replay_producers(from);
}

Status PartitionLog::replay_producers(Offset from) {
  for (const auto& seg : segments_) {
    if (seg->end() <= from || seg->is_empty() || seg->size() == 0) continue;
    // Damage is the read path's to refuse and report (with its offset); the
    // state takes what can be read and start-up goes on.
    auto first = seg->find_batch(std::max(from, seg->base()));
    if (!first.is_ok()) {
      report(dir_ + ": producer state: " + first.status().message());
      continue;
    }
    if (!*first) continue;  // compaction emptied its tail
    auto file = seg->file();
    if (!file.is_ok()) {
      report(dir_ + ": producer state: " + file.status().message());
      continue;
    }
    BatchScanner scan(**file, (*first)->pos, BatchScanner::Mode::kBoundaries);
    ScannedBatch b;
    while (scan.next(&b))
      if (b.header.base >= from) producers_.update(b.header);
  }
  return Status::ok();
}

}  // namespace kreek::storage
