// Segment: one append-only .log file of batch lines for one partition, plus its
// sparse offset index (.index) and time index (.timeindex). The active segment
// keeps everything in memory; a closed segment opened at start-up is only
// stat()ed, and opens its log and loads (validating, or rebuilding) its indexes
// on first lookup. Every batch is checked (CRC, framing, continuity) once
// before its bytes are first served, and damage found then is remembered.
// Owner-thread only, except sync(), which may run on a worker thread while the
// owner keeps appending (FlushPlan::run syncs the files of files_to_sync()
// instead, so the descriptor bound can close a segment's log meanwhile).
#pragma once

#include <atomic>
#include <mutex>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/strong_id.h"
#include "storage/batch_format.h"
#include "storage/batch_scanner.h"
#include "storage/descriptor_cache.h"
#include "storage/file.h"
#include "storage/leader_epoch_cache.h"
#include "storage/segment_index.h"
#include "storage/verified_ranges.h"

namespace kreek::storage {

// "<dir>/00000000000000001000" + ext.
std::string segment_path(const std::string& dir, Offset base, std::string_view ext);

class Segment {
 public:
  // A new, empty segment (the active one): creates its three files, emptying
  // any stale leftovers with the same name.
  static Result<std::shared_ptr<Segment>> create(const std::string& dir, Offset base,
                                                 int64_t index_interval);
  // An existing segment, its extent known from its neighbours: nothing is read
  // until the first lookup. `end` is the offset after its last batch.
  static Result<std::shared_ptr<Segment>> open_closed(const std::string& dir, Offset base, Offset end,
                                                      int64_t index_interval);
  // A segment over caller-supplied files (tests). An empty log is a fresh
  // active segment; otherwise it behaves like open_closed (or call recover()).
  static std::shared_ptr<Segment> over_files(Offset base, Offset end, std::unique_ptr<File> log,
                                             std::unique_ptr<File> index,
                                             std::unique_ptr<File> time_index,
                                             int64_t index_interval);
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  Offset base() const { return base_; }
  Offset end() const { return end_; }  // offset after the last batch
  int64_t size() const;                // bytes in the .log file (0 if it cannot be stat()ed)
  bool is_empty() const { return end_ == base_; }
  const std::string& name() const { return name_; }  // the .log path (or "<memory>")

  // --- the active segment ---------------------------------------------------
  // Writes prefix + records + "}\n" with one writev; indexes every
  // `index_interval` bytes. On error nothing of the line stays in the file.
  // `prefix` is encode_batch_prefix(h). h.base is end() for the active
  // segment; the compactor writing a cleaned segment may leave gaps (h.base > end()).
  Status append(const BatchHeader& h, std::string_view prefix, std::string_view records);
  void set_index_interval(int64_t bytes) { index_interval_ = bytes; }
  // Closing: adds the time index entry for the max timestamp if missing, so a
  // closed segment's newest timestamp is its last time index entry.
  Status seal();
  // Removes every batch that holds offsets >= `offset` (the batch containing
  // it included). The segment may be left empty.
  Status truncate_to(Offset offset);

  // --- lookups (any segment) -------------------------------------------------
  // The batch containing `offset` (base <= offset < end), or, when compaction
  // removed `offset`, the first batch after it; nullopt if the segment holds
  // no batch at or after it (its tail was compacted away).
  Result<std::optional<ScannedBatch>> find_batch(Offset offset);
  // find_batch, with "no batch at or after `offset`" as an error.
  Result<ScannedBatch> locate(Offset offset);
  // Extends a read that starts with batch `first`: whole batches while the
  // bytes from first.pos stay <= max_bytes (the first is taken regardless if
  // `take_first`) and their offsets stay below `limit`.
  struct Extent {
    int64_t pos = 0;       // where the read starts: first.pos
    int64_t end_pos = 0;   // read [first.pos, end_pos)
    Offset next;           // offset after the last batch included
    bool reached_end = false;  // true if the read ran to the end of the segment
  };
  Result<Extent> extent(const ScannedBatch& first, int64_t max_bytes, Offset limit, bool take_first);
  // The first batch whose ts >= `ts`, via the time index; nullopt if none here.
  Result<std::optional<Offset>> offset_for_time(TimestampMs ts);
  Result<TimestampMs> max_timestamp();  // -1 for an empty segment
  Result<TimestampMs> last_timestamp();
  Result<LeaderEpoch> last_epoch();     // -1 for an empty segment
  // Timestamp of the first batch (for segment.ms); -1 if empty.
  Result<TimestampMs> first_timestamp();
  // Descriptor for zero-copy sends; opens the file if needed. -1 for memory files.
  Result<int> fd();
  // The open .log file, for a FileSlice to hold while its send is in flight.
  Result<std::shared_ptr<File>> file();
  Result<std::string> read_bytes(int64_t pos, int64_t len);

  // --- verification on first read --------------------------------------------
  // Damage found in this segment by a read (or by loading its indexes): the
  // bytes from `pos` on are never served, and reads of offsets at or after
  // `offset` (up to end()) are refused with `status`, a kCorrupt naming the
  // file, the offset and the file position.
  struct Damage {
    int64_t pos = 0;
    Offset offset;
    Status status;
  };
  const std::optional<Damage>& damage() const { return damage_; }
  // Makes sure every batch in [pos, end) has been checked, checking now what
  // no earlier read, append or recovery has: framing, CRC-32C, base
  // continuity (batch_follows) and, where the file ends, that its batches
  // reach end() (a shortened file must not skip offsets). `first` is the base
  // offset of the batch at `pos`; pos and end are batch boundaries. Damage
  // found is recorded (damage(), logged once per segment) and the good part
  // ends before it. kIoError if the file cannot be read.
  struct Checked {
    int64_t end_pos = 0;   // bytes [pos, end_pos) are good
    bool damaged = false;  // true: damage stops them at end_pos (damage()->pos)
  };
  Result<Checked> verify(int64_t pos, Offset first, int64_t end);
  int64_t verified_bytes() const { return verified_.bytes(); }

  // --- recovery -------------------------------------------------------------
  struct Recovery {
    bool truncated = false;
    Offset bad_offset;     // offset the first dropped batch would have had
    int64_t bad_pos = 0;   // file position of the cut
    int64_t dropped = 0;   // bytes cut from this file
    Status reason;
  };
  // Validates every batch (CRC, framing, base continuity from the segment base)
  // from the start, or from the index entry at or below `recovery_point` when
  // the index agrees with the log; cuts the file at the first bad batch and
  // rebuilds both indexes. `seal_if_clean`: the segment is not the last one.
  // Epochs never decrease along a log: a batch whose epoch is below
  // *epoch_floor (the previous verified batch's, carried across segments) is
  // damage too. If given, *epoch_floor is updated to the last verified
  // batch's epoch, and `epoch_starts` gets the first batch of every epoch
  // above the floor it met (for the epoch history).
  Result<Recovery> recover(Offset recovery_point, bool seal_if_clean,
                           LeaderEpoch* epoch_floor = nullptr,
                           std::vector<LeaderEpochCache::Entry>* epoch_starts = nullptr);
  // A closed segment whose last records were compacted away still covers the
  // offsets up to the next segment's base: end() becomes `end` (>= end()).
  void cover_to(Offset end);
  // The segment belongs to a compacted log: gaps between batches (and before
  // end()) are compaction's, not damage (batch_follows). Off by default.
  void allow_gaps(bool on) { gaps_ = on; }
  bool allows_gaps() const { return gaps_; }

  // --- durability and deletion ------------------------------------------------
  // fdatasync of the log, of the indexes if still open (the active segment),
  // and of the directory once for a new segment: one segment on its own.
  // Safe on a worker thread: files closed meanwhile (indexes, or the log by
  // the descriptor bound) stay open until this sync lets go of them.
  Status sync();
  // For a FlushPlan (owner thread): the files a flush must fdatasync — the log
  // and any open index files — held open by the plan while it runs, so the
  // descriptor bound may close the segment's own descriptor meanwhile.
  std::vector<std::shared_ptr<File>> files_to_sync();
  // A new segment's directory entry is not durable until the directory is
  // fsynced; a FlushPlan does that once for all its segments.
  bool take_dir_sync() { return dir_sync_pending_.exchange(false); }
  void mark_dir_sync() { dir_sync_pending_ = true; }
  // Taking the dirty flag puts the segment in a plan until end_plan(): its
  // descriptor is not closed meanwhile, so a dirty segment without an open log
  // is always one close_log() synced first.
  bool take_dirty() {
    if (dirty_) in_plan_ = true;
    return std::exchange(dirty_, false);
  }
  void end_plan() { in_plan_ = false; }
  bool is_dirty() const { return dirty_; }
  // Closes the index files of a closed segment so it holds one descriptor
  // (its log) however many segments a partition has; entries stay in memory,
  // and the files are reopened if the segment is appended to again.
  void close_index_files();
  void mark_dirty() { dirty_ = true; }

  // --- the descriptor bound ----------------------------------------------------
  // A closed segment notes its open log in `cache` (null: unbounded, as for
  // the active segment) and may then have it closed by close_log().
  void set_descriptor_cache(std::shared_ptr<DescriptorCache> cache);
  // A segment over real files that no flush plan holds.
  bool can_close_log() const { return log_ != nullptr && !in_plan_ && !dir_.empty(); }
  // DescriptorCache only: closes this segment's own descriptor (holders of
  // file() keep theirs); the next lookup reopens it. A dirty segment is
  // fdatasynced first, through the descriptor that wrote it (false, and the
  // descriptor stays open, if that fails); it stays dirty so a flush plan
  // still covers its directory entry and the recovery point.
  bool close_log();
  bool has_open_log() const { return log_ != nullptr; }
  // Unlinks the three files; open descriptors (in-flight FileSlices) stay valid.
  Status remove_files();

 private:
  Segment(std::string dir, Offset base);
  Status ensure_open();
  Status ensure_loaded();
  Status open_index_files(bool create);
  // Scans from the last offset index entry to the end of the log: fills tail
  // state and says whether the indexes agree with the log.
  // `require_seal`: a closed segment's last time entry must carry its max ts.
  Result<bool> load_tail(bool require_seal);
  Status rebuild_indexes();
  void reset_tail();
  // Index maintenance shared by append, recovery and rebuilds: updates tail
  // state and returns the index entries this batch earns.
  struct NewEntries {
    std::optional<OffsetEntry> offset;
    std::optional<TimeEntry> time;
  };
  NewEntries note_batch(const BatchHeader& h, int64_t pos, int64_t len, const TimeEntry* last_time);
  Status fail_corrupt(int64_t pos, const Status& why) const;
  // Records damage at file position `pos`, where offset `offset` was expected
  // (the earliest damage wins), logs it the first time, and returns the
  // status reads of this segment now get.
  Status note_damage(int64_t pos, Offset offset, const std::string& why);

  std::string dir_;  // empty for segments over caller-supplied files
  std::string name_;
  Offset base_;
  Offset end_;
  // Size before the log is opened, stat()ed on first use: open() of a
  // partition touches only its active segment (-1 = not yet known).
  mutable int64_t stat_size_ = -1;
  std::shared_ptr<File> log_;  // shared: in-flight FileSlices and flushes hold it open
  OffsetIndex index_;
  TimeIndex time_index_;
  bool loaded_ = false;  // indexes loaded and tail state known
  // Tail state (valid when loaded_).
  TimestampMs max_ts_{-1};
  uint32_t rel_of_max_ = 0;
  TimestampMs last_ts_{-1};
  TimestampMs first_ts_{-1};
  LeaderEpoch last_epoch_{-1};
  int64_t bytes_since_entry_ = 0;
  int64_t index_interval_ = 4096;
  bool dirty_ = false;
  bool in_plan_ = false;  // taken by a FlushPlan that has not ended
  VerifiedRanges verified_;
  std::shared_ptr<DescriptorCache> fd_cache_;
  std::optional<Damage> damage_;
  bool gaps_ = false;  // allow_gaps()
  // Guards swapping the index File pointers against sync() copying them.
  std::mutex files_mu_;
  std::atomic<bool> dir_sync_pending_{false};  // a new segment: fsync the directory once
};

}  // namespace kreek::storage
