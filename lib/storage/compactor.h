// Compactor: log compaction (cleanup.policy=compact), Kafka's log cleaner for
// one partition at a time. Keeps the newest record per key in the closed
// segments below the high watermark, offsets unchanged, and drops tombstones once they have survived a
// compaction and are older than delete.retention.ms. Work splits like a flush:
//   begin (owner thread)  picks the closed segments, cheap
//   run   (any thread)    builds the key map and writes <base>.log.cleaned etc.
//   end   (owner thread)  swaps the cleaned segments in (renames) if the log
//                         still holds exactly the segments planned over
// Appends and reads continue throughout; replaced segments stay readable by
// in-flight FileSlices. kreek-format(5), COMPACTION, states every rule.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/strong_id.h"
#include "storage/cleaner_state.h"
#include "storage/log_config.h"

namespace kreek::storage {

class PartitionLog;
class Segment;

struct CompactionOptions {
  // Memory bound of the key map (Kafka's log.cleaner.dedupe.buffer.size): the
  // dirty segments that do not fit wait for the next run.
  int64_t max_map_bytes = 64LL << 20;
  // Tests: stop the swap after this many filesystem operations and return, as
  // a crash there would leave the directory (memory is left as it was). -1: off.
  int simulate_crash_after_swap_steps = -1;
};

// How much of a log is worth cleaning: Kafka's cleanable ratio.
struct Cleanable {
  int64_t clean_bytes = 0;  // closed segments below cleaned_to
  int64_t dirty_bytes = 0;  // closed segments at or past it
  double dirty_ratio = 0;   // dirty / (clean + dirty); 0 when both are 0
  bool tombstones_due = false;  // a kept tombstone passed delete.retention.ms
  bool due = false;         // compact now
};

// One compaction in flight. Created by Compactor::begin; run() on a worker.
class CompactionPlan {
 public:
  // Worker thread: reads the planned segments through its own descriptors and
  // writes the cleaned files, fsynced. Touches nothing of the PartitionLog.
  Status run();
  // Any thread: makes run() stop soon (topic deleted, shutdown).
  void cancel() { cancelled_ = true; }
  const std::string& dir() const { return dir_; }
  const CompactionStats& stats() const { return stats_; }

 private:
  friend class Compactor;
  struct Source {
    Offset base, end;  // end: the next segment's base
    std::string path;  // its .log
    int64_t size = 0;
    std::shared_ptr<Segment> seg;  // to check at end() that it is still the log's
  };
  struct Group {
    size_t first = 0, last = 0;  // sources [first, last]
    bool changed = false;        // false: its .cleaned files were removed again
  };
  Status write_group(Group& g);
  Status scan_dirty();
  void remove_outputs(const Group& g) const;

  std::string dir_;
  LogConfig config_;
  CompactionOptions options_;
  int64_t now_ = 0;             // wall clock ms at begin
  Offset cleaned_to_;           // the log's first dirty offset at begin
  size_t first_dirty_ = 0;      // index of the first source past cleaned_to_
  bool tombstones_due_ = false;
  uint64_t layout_version_ = 0;
  std::vector<Source> sources_;
  std::atomic<bool> cancelled_{false};
  // Set by run().
  Status status_;
  bool ran_ = false;
  size_t used_ = 0;                 // sources [0, used_) were rewritten
  std::vector<Group> groups_;
  int64_t lag_blocked_until_ = 0;   // min.compaction.lag.ms stopped the scan
  TimestampMs oldest_tombstone_{-1};
  CompactionStats stats_;
  // The key map: newest offset per key in the dirty segments scanned.
  struct KeyMap;
  std::shared_ptr<KeyMap> map_;
};

enum class CompactionOutcome {
  kSwapped,      // cleaned segments replaced old ones
  kUnchanged,    // ran, nothing to remove (the log counts as clean now)
  kNothingToDo,  // no closed segment could be cleaned (min.compaction.lag.ms, or none)
  kAbandoned,    // the log changed (truncated, retention, deleted) or the run was cancelled
};

struct CompactionResult {
  CompactionOutcome outcome = CompactionOutcome::kNothingToDo;
  CompactionStats stats;
  std::string why;  // kAbandoned: what changed
};

class Compactor {
 public:
  // Owner thread. Whether `log` should be compacted now: cleanup.policy holds
  // compact and either dirty_ratio > min.cleanable.dirty.ratio or a kept
  // tombstone has expired; never before min.compaction.lag.ms allows.
  static Cleanable assess(const PartitionLog& log, TimestampMs now);
  // Owner thread: a plan over every closed segment, or null if the log is not
  // compacted or has no closed segment.
  static std::shared_ptr<CompactionPlan> begin(PartitionLog& log, TimestampMs now,
                                               const CompactionOptions& options = {});
  // Owner thread, after run(). `log` is the partition's log now (null if the
  // topic is gone). Swaps in the cleaned segments, or removes them if the log
  // changed meanwhile. The caller should fsync plan.dir() afterwards (sync_dir;
  // off the loop) to make the renames durable. An error from run() or from a
  // rename is returned after the directory was brought back to a consistent
  // state (the swap finished or rolled back, as start-up would).
  static Result<CompactionResult> end(PartitionLog* log, CompactionPlan& plan);
  // Start-up: the cleaner's position read back from the data directory's
  // cleaner-offset-checkpoint (clamped to the log as it was recovered).
  static void restore(PartitionLog& log, Offset cleaned_to, TimestampMs oldest_tombstone);
  // begin + run + end + directory fsync on this thread (tests, tools).
  static Result<CompactionResult> compact_now(PartitionLog& log, TimestampMs now,
                                              const CompactionOptions& options = {});

 private:
  // How many segments from the front compaction may touch: the closed ones
  // wholly below the log's high watermark.
  static size_t cleanable_segments(const PartitionLog& log);
};

}  // namespace kreek::storage
