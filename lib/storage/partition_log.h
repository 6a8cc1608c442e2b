// PartitionLog: one partition's ordered, append-only log on disk — a directory
// of segments named by base offset, each with a sparse offset index and a time
// index. Single-threaded: every method runs on the owner's thread (the broker's
// loop), except FlushPlan::run, which is made for a worker thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/strong_id.h"
#include "storage/batch_format.h"
#include "storage/cleaner_state.h"
#include "storage/file.h"
#include "storage/leader_epoch_cache.h"
#include "storage/log_config.h"
#include "storage/producer_state.h"

namespace kreek::storage {

class Segment;
class DescriptorCache;

// A byte range of a segment file that holds whole batch lines, every batch of
// it checked (CRC, framing, continuity) before it was first handed out.
// `owner` keeps the segment alive and `file` keeps `fd` open while a send is
// in flight, even if retention deletes the segment or the descriptor bound
// closes the segment's own descriptor meanwhile.
struct FileSlice {
  std::shared_ptr<Segment> owner;
  int fd = -1;
  int64_t pos = 0;
  int64_t len = 0;
  std::shared_ptr<File> file;
};

struct ReadResult {
  std::vector<FileSlice> slices;  // in log order; their bytes are whole batch lines
  int64_t bytes = 0;              // sum of slice lengths
  Offset next;                    // offset after the last record returned (== from if none)
};

struct AppendResult {
  Offset base;
  Offset last;
  TimestampMs ts;  // the append time stamped on the batch
};

// What a reader or recovery reports when it drops bytes (leveldb's Reporter).
using Reporter = std::function<void(std::string_view message)>;

// An fsync of everything appended so far (begin_flush), or of the segments
// closed by rolls (begin_flush_closed), in three steps so the slow middle
// step can run off the loop: begin (owner thread) -> run (any thread) ->
// end_flush (owner thread) advances the recovery point to up_to. At most one
// plan per log may be in flight: a later plan skips segments an earlier one
// took, so it must not end first.
struct FlushPlan {
  std::vector<std::shared_ptr<Segment>> segments;  // those with unsynced bytes
  std::vector<std::shared_ptr<File>> files;        // their files, held open until the plan ends
  std::string dir;                                 // the partition directory
  bool fsync_dir = false;    // a segment was created since the last flush: fsync dir once
  bool closed_only = false;  // begin_flush_closed: the active segment is not included
  Offset up_to;              // everything below it is synced once run() succeeds
  // The log's truncation count when the plan began: a truncation meanwhile
  // (truncate_to, reset_to) rewrites bytes below up_to that the plan may not
  // have synced, so end_flush then advances no further than the lowest cut.
  uint64_t truncations = 0;
  bool synced = false;       // set by a successful run()
  bool failed = false;       // set by a run() whose fsync failed
  // Set by a run() that could not open the directory for its fsync (EMFILE:
  // out of descriptors for a moment). No fsync failed, so nothing is known
  // lost: the flush is only not done, and a later plan does it again.
  bool retry = false;
  // fdatasync each file, then the directory once. Touches only the plan's
  // files, which stay open while the plan exists.
  Status run();
};

// The bytes of a slice, for callers that cannot send from the descriptor
// (in-memory files, tests, copying into a buffer).
Result<std::string> read_slice(const FileSlice& slice);

class PartitionLog {
 public:
  // Opens the log in `dir` (created if missing). Segments past `recovery_point`
  // are validated batch by batch: the log is truncated at the first torn or
  // corrupt batch (reported through `reporter`), and their indexes rebuilt.
  // Indexes of earlier segments are loaded lazily and rebuilt if stale.
  // `fd_cache` bounds the descriptors its closed segments keep open (null:
  // no bound); it is shared by the logs of a broker.
  // `compacted_before`: the log was compacted under an earlier config (the
  // cleaner checkpoint names it), so its gaps are not damage even if its
  // cleanup.policy no longer says compact.
  static Result<std::unique_ptr<PartitionLog>> open(std::string dir, LogConfig config,
                                                     Offset recovery_point, Reporter reporter,
                                                     std::shared_ptr<DescriptorCache> fd_cache = nullptr,
                                                     bool compacted_before = false);
  // Counts this log's descriptors against `cache` from now on: a log opened
  // without one (on another thread) joins the owner thread's bound.
  void attach_descriptor_cache(std::shared_ptr<DescriptorCache> cache);
  ~PartitionLog();

  // Appends one batch: prefix stamped with the next offset, `epoch` and append
  // time max(now, last ts), then `records` verbatim, then "}\n". `records` must
  // be a validated records array of `n` records whose CRC-32C is `records_crc`;
  // the stored crc is batch_crc(records_crc, head) (batch_format.h).
  // Rolls the active segment first if segment.bytes or segment.ms say so.
  // Returns after write(2): durable against a process crash, not power loss
  // (see flush). kMessageTooLarge if records exceeds max.message.bytes.
  // kFencedEpoch, nothing written, if `epoch` is below latest_epoch(); a new
  // epoch is recorded in the epoch history at the batch's base offset.
  // Leaves the high watermark alone: the caller moves it (a single-replica
  // partition calls set_high_watermark(log_end()) after each append).
  // `producer` (an idempotent producer's pid, epoch, first sequence) makes it
  // a v2 batch; the caller checked it against producers() first.
  Result<AppendResult> append(std::string_view records, int32_t n, uint32_t records_crc,
                              LeaderEpoch epoch, TimestampMs now, const ProducerFields& producer = {});

  // --- idempotent producers (partition_log_producers.cpp) ---
  // Per producer id, the last batches in this log: what a produce request's
  // pid/pepoch/seq is checked against. Rebuilt at open and by truncate_to.
  const ProducerState& producers() const { return producers_; }
  // Takes a batch just written to this log into producers(). append() calls
  // it; so must any other path that adds batches (a follower's replicated appends).
  void observe_batch(const BatchHeader& h);

  // A follower's append: whole batch lines exactly as the leader stored and
  // sent them (one fetch answer may hold many), written verbatim so the
  // replicas' segment files are byte-equal. Each batch must parse with a
  // good CRC, start at log_end() (at or after it in a log that may have
  // gaps), and carry an epoch no lower than latest_epoch(). Segments roll by
  // the same rules as append, batch by batch (segment.ms against the batch's
  // own timestamp). max.message.bytes is not applied: it is the leader's
  // check, and a follower must take what its leader accepted even if the
  // limit was lowered since (Kafka does the same). Returns the new log end.
  // A bad batch: kCorrupt naming the partition directory and offset; the
  // batches before it stay written, nothing from it on is. The high
  // watermark is left to the caller (the leader's "hw", clamped).
  Result<Offset> append_replicated(std::string_view batch_lines);

  // Reads whole batches starting with the one that contains `from` (or, if
  // compaction removed `from`, the next batch that survived), up to
  // `max_bytes` (but always at least one batch if any exists below `limit`),
  // never past offset `limit` (exclusive; the high watermark).
  // kOffsetOutOfRange if from < log_start() or from > log_end().
  // No byte of a damaged batch is returned: bytes not yet checked are checked
  // first (Segment::verify), the read stops before damage, and a read that
  // starts at or after the damaged batch (in its segment) gets kCorrupt
  // naming the file and offset. When no batch holds an offset in
  // [from, limit), `next` is the first offset after the gap (compaction).
  Result<ReadResult> read(Offset from, int64_t max_bytes, Offset limit) const;

  Offset log_start() const;  // first offset still stored
  Offset log_end() const;    // offset the next record will get
  Offset recovery_point() const { return recovery_point_; }

  // The high watermark: offsets below it are replicated to the ISR, visible to
  // consumers, and the only ones retention and compaction may touch.
  // log_start() <= high_watermark() <= log_end() always. A log opened
  // directly starts with it at log_start(); LogManager restores it from
  // replication-offset-checkpoint. set_high_watermark only raises it (clamped
  // to log_end()); truncate_to and reset_to lower it.
  Offset high_watermark() const { return high_watermark_; }
  void set_high_watermark(Offset hw);
  // Start-up only (LogManager): the checkpointed value, clamped to
  // [log_start(), log_end()], whichever way that moves it.
  void restore_high_watermark(Offset hw);

  // The leader epoch history (KIP-101), kept in <dir>/leader-epoch-checkpoint
  // and rewritten atomically whenever it changes.
  // assign_epoch: a new leader records `epoch` as starting at `start` (its
  // log end) before it appends. kFencedEpoch if epoch < latest_epoch();
  // kInvalidRequest if start is not log_end(); no-op if already the latest.
  Status assign_epoch(LeaderEpoch epoch, Offset start);
  // The largest epoch <= e and the offset where it ends (the next epoch's
  // start, or log_end() for the latest); {-1,-1} if there is none.
  EpochEnd end_offset_for_epoch(LeaderEpoch e) const;
  // The newest epoch in the history (which may be newer than last_epoch(),
  // the epoch of the last batch); -1 if none.
  LeaderEpoch latest_epoch() const;
  const LeaderEpochCache& epochs() const { return epochs_; }
  // Records appended since the last flush, and the monotonic ms it became dirty.
  int64_t unflushed_messages() const { return unflushed_messages_; }
  int64_t first_unflushed_ms() const { return first_unflushed_ms_; }

  // First offset whose batch timestamp is >= ts (via the time index), or
  // log_end() if none.
  Result<Offset> offset_for_time(TimestampMs ts) const;

  // begin_flush takes the dirty segments and zeroes the unflushed counters;
  // end_flush advances the recovery point to plan.up_to if the run succeeded,
  // and otherwise marks the segments dirty again. After a failed run (an
  // fsync or fdatasync that returned an error, not a plan.retry) the recovery point never moves again in this
  // process: the kernel may have dropped the dirty pages, so a later fsync that
  // succeeds proves nothing, and the next start-up must validate every byte
  // past the last point known to be on disk.
  FlushPlan begin_flush();
  // The segments closed by rolls that are not yet synced, up to the active
  // segment's base (Kafka flushes a rolled segment in the background the
  // same way), so the recovery point follows the rolls and a shutdown has
  // only the active segments left to sync. Counters are left alone.
  FlushPlan begin_flush_closed();
  bool has_unsynced_closed() const { return unsynced_closed_; }
  bool has_unsynced() const;  // anything at all for begin_flush to sync
  bool sync_failed() const { return sync_failed_; }
  void end_flush(const FlushPlan& plan);
  Status flush();  // begin + run + end, all on this thread (tests, shutdown)

  // Deletes whole segments beyond retention.ms / retention.bytes, oldest
  // first, and only segments whose every record is below high_watermark();
  // the log start offset moves forward (the epoch history is trimmed to it).
  // The active segment counts too for retention.ms: a quiet partition's
  // active segment whose newest batch is older than retention.ms and which
  // is wholly below the high watermark is rolled, then deleted (Kafka).
  // Returns the number deleted.
  Result<int> enforce_retention(TimestampMs now);
  // Closes the active segment and starts a new one if it is older than segment.ms.
  Status roll_if_due(TimestampMs now);

  // Removes everything at or after `offset` (replication: a follower truncating
  // to the leader's epoch boundary). Epoch history entries starting at or
  // after it go too; the high watermark and the recovery point are lowered to
  // at most the new log end, and a flush plan begun before the truncation
  // cannot move the recovery point past the cut (FlushPlan::truncations).
  Status truncate_to(Offset offset);
  // A follower far behind its leader's log start: removes every segment and
  // starts an empty log at `start` (epoch history cleared, high watermark =
  // recovery point = start). The directory is fsynced before it returns.
  Status reset_to(Offset start);

  // A log that becomes compacted accepts compaction's gaps from then on, also
  // after compaction is turned off again (see may_have_gaps).
  void set_config(const LogConfig& c);
  // Gaps between batches are compaction's, not damage: the log is or was compacted.
  bool may_have_gaps() const { return gaps_; }
  const LogConfig& config() const { return config_; }
  const std::string& dir() const { return dir_; }
  int64_t size_bytes() const;
  int segment_count() const;
  LeaderEpoch last_epoch() const;  // of the last batch; -1 if the log holds none
  // Compaction bookkeeping (compactor.h); cleanup.policy=compact logs only.
  const CleanerState& cleaner() const { return cleaner_; }

  // Closes files and removes the files kreek wrote, then the directory unless
  // something else is in it (topic deletion; data_dir.h). The log must not
  // be used afterwards (in-flight FileSlices stay readable).
  Status remove();

 private:
  PartitionLog(std::string dir, LogConfig config);
  Status recover_segments(Offset recovery_point, std::vector<LeaderEpochCache::Entry>* epoch_starts);
  Status roll();
  Status delete_front_segment();
  FlushPlan plan_flush(size_t segment_count, Offset up_to);
  // Sets last_ts_/last_epoch_ from the newest batch still in the log.
  Status refresh_tail();
  // producers_ from the producer snapshot (if usable) plus the batches after it.
  Status rebuild_producers();
  Status replay_producers(Offset from);
  // Saves producers_ as of log_end() (after a successful flush, so the
  // batches it describes are on disk); drop: a truncation made it stale.
  Status write_producer_snapshot();
  Status drop_producer_snapshot();
  std::string producer_snapshot_path() const;
  ProducerState producers_;
  bool has_producer_snapshot_ = false;
  void report(const std::string& message) const;
  // The shared roll rule of append and append_replicated: roll the active
  // segment first if a line of `line` bytes ending at offset `last` does not
  // fit it, or it is older than segment.ms at time `now`.
  Status roll_for(int64_t line, Offset last, TimestampMs now);
  // Epoch history: loading at open, rebuilding from the batches, and
  // writing the checkpoint after a change (partition_log_epochs.cpp).
  Status load_epochs(const std::vector<LeaderEpochCache::Entry>& recovered);
  Status rebuild_epochs();
  Status write_epochs();
  // write_epochs for a change whose batches start at `from`; if the write
  // fails (out of descriptors for a moment, a full disk) the change stays in
  // memory, the recovery point stops below `from` until a later end_flush
  // writes the file (so start-up scans those batches and finds the epochs
  // again), and the failure is reported, not returned: appends go on.
  void save_epochs(Offset from);
  // Records that `epoch` starts at `start` if it is new (append paths).
  Status note_epoch(LeaderEpoch epoch, Offset start);
  // A truncation at `cut`: in-flight flush plans stop there.
  void note_cut(Offset cut);
  // How far a plan may move the recovery point now (its up_to, less any cut since).
  Offset plan_limit(const FlushPlan& plan) const;
  std::string partition_name() const;  // the directory's last component
  LeaderEpoch last_epoch_{-1};
  LeaderEpochCache epochs_;
  bool epochs_unsaved_ = false;         // save_epochs failed: the file is behind
  Offset epochs_unsaved_from_{INT64_MAX};  // the recovery point stays below it meanwhile
  Offset high_watermark_{0};
  // Truncations so far, and the cut of each recent one (cuts_[i] is
  // truncation number cuts_base_ + i + 1); older ones are folded into
  // cut_floor_, which plans that old must stop at.
  uint64_t truncations_ = 0;
  uint64_t cuts_base_ = 0;
  std::vector<Offset> cuts_;
  Offset cut_floor_{INT64_MAX};
  friend class Compactor;
  CleanerState cleaner_;
  std::string dir_;
  LogConfig config_;
  bool gaps_ = false;  // may_have_gaps()
  std::vector<std::shared_ptr<Segment>> segments_;  // ascending base offset; last is active
  Offset recovery_point_;
  int64_t unflushed_messages_ = 0;
  int64_t first_unflushed_ms_ = 0;
  bool unsynced_closed_ = false;
  bool sync_failed_ = false;  // a flush run failed: the recovery point is frozen
  std::shared_ptr<DescriptorCache> fd_cache_;  // a closed segment is dirty (rolled or recovered)
  TimestampMs last_ts_;
  Reporter reporter_;
};

}  // namespace kreek::storage
