// CleanerState: what the compactor remembers about one partition log between
// runs — how far the log has been cleaned, the oldest tombstone it kept, and
// the last run's figures for operators. Lives in PartitionLog (owner thread).
#pragma once

#include <cstdint>

#include "base/strong_id.h"

namespace kreek::storage {

struct CompactionStats {
  Offset start;  // offsets [start, end) were rewritten
  Offset end;
  int64_t records_before = 0;
  int64_t records_after = 0;
  int64_t bytes_before = 0;
  int64_t bytes_after = 0;
  int segments_before = 0;
  int segments_after = 0;
  int64_t tombstones_removed = 0;
  int64_t keyless_removed = 0;  // written before the topic became compacted
  int64_t run_ms = 0;           // worker time: scan and rewrite
};

struct CleanerState {
  // Every closed segment below this offset was rewritten by the last
  // compaction (Kafka's "first dirty offset"); a segment boundary. Kept in
  // <data-dir>/cleaner-offset-checkpoint with oldest_tombstone.
  Offset cleaned_to{0};
  // Batch ts of the oldest tombstone the last compaction kept below
  // cleaned_to (-1: none), so expiring tombstones make a log due by themselves.
  TimestampMs oldest_tombstone{-1};
  // Wall-clock ms before which min.compaction.lag.ms leaves nothing to clean.
  int64_t not_before_ms = 0;
  // Bumped by truncation: a compaction planned before it is void.
  uint64_t layout_version = 0;
  int64_t runs = 0;               // compactions swapped in since start-up
  int64_t last_run_ms = -1;       // wall clock of the last swap
  CompactionStats last;           // figures of the last swap
};

}  // namespace kreek::storage
