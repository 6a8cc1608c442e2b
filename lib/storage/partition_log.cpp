// PartitionLog: appends, reads, time lookups, flushing and truncation over the
// partition's segments. Opening and recovery are in partition_log_open.cpp,
// retention and rolling by time in retention.cpp.
#include "storage/partition_log.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "base/base.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/atomic_file.h"
#include "storage/data_dir.h"
#include "storage/descriptor_cache.h"
#include "storage/segment.h"

namespace kreek::storage {
namespace {

// One segment's part of a read: the batch holding `at` (or the next one, if
// compaction removed `at`; nullopt if none is left in this segment), extended
// up to the budget and limit, then verified before any of it is handed out.
// `first_base` is that batch's base offset.
Result<std::optional<Segment::Extent>> read_extent(Segment& seg, Offset at, int64_t budget,
                                                   Offset limit, bool take_first, Offset* first_base) {
  KREEK_ASSIGN_OR_RETURN(std::optional<ScannedBatch> found, seg.find_batch(at));
  if (!found) return std::optional<Segment::Extent>();
  const ScannedBatch& b = *found;
  *first_base = b.header.base;
  KREEK_ASSIGN_OR_RETURN(Segment::Extent ext, seg.extent(b, budget, limit, take_first));
  ext.pos = b.pos;
  if (ext.end_pos <= b.pos) return std::optional<Segment::Extent>(ext);
  // Verified once, before the bytes are first handed out; zero-copy after.
  KREEK_ASSIGN_OR_RETURN(Segment::Checked ok, seg.verify(b.pos, b.header.base, ext.end_pos));
  if (ok.damaged) {
    ext.end_pos = ok.end_pos;
    ext.next = seg.damage()->offset;
    ext.reached_end = false;
    if (ext.end_pos <= b.pos) return seg.damage()->status;
  }
  return std::optional<Segment::Extent>(ext);
}

}  // namespace

PartitionLog::PartitionLog(std::string dir, LogConfig config)
    : dir_(std::move(dir)), config_(config), last_ts_(-1) {}

PartitionLog::~PartitionLog() {
  segments_.clear();  // closed segments leave the cache before the active share goes
  if (fd_cache_) fd_cache_->remove_active(kActiveSegmentDescriptors);
}

void PartitionLog::attach_descriptor_cache(std::shared_ptr<DescriptorCache> cache) {
  if (fd_cache_ || !cache) return;
  fd_cache_ = std::move(cache);
  fd_cache_->add_active(kActiveSegmentDescriptors);
  for (size_t i = 0; i + 1 < segments_.size(); ++i) segments_[i]->set_descriptor_cache(fd_cache_);
}

void PartitionLog::set_config(const LogConfig& c) {
  config_ = c;
  if (c.cleanup_compact && !gaps_) {
    gaps_ = true;
    for (const auto& s : segments_) s->allow_gaps(true);
  }
}

Offset PartitionLog::log_start() const { return segments_.front()->base(); }
Offset PartitionLog::log_end() const { return segments_.back()->end(); }

int64_t PartitionLog::size_bytes() const {
  int64_t total = 0;
  for (const auto& s : segments_) total += s->size();
  return total;
}

int PartitionLog::segment_count() const { return static_cast<int>(segments_.size()); }
LeaderEpoch PartitionLog::last_epoch() const { return last_epoch_; }

void PartitionLog::report(const std::string& message) const {
  if (reporter_) {
    reporter_(message);
  } else {
    log::warn(message);
  }
}

Status PartitionLog::roll() {
  KREEK_RETURN_IF_ERROR(segments_.back()->seal());
  segments_.back()->close_index_files();
  segments_.back()->set_descriptor_cache(fd_cache_);  // closed now: its descriptor counts
  KREEK_ASSIGN_OR_RETURN(auto seg, Segment::create(dir_, log_end(), config_.index_interval_bytes));
  seg->allow_gaps(gaps_);
  segments_.push_back(std::move(seg));
  unsynced_closed_ = true;  // the closed segment waits for begin_flush_closed
  return Status::ok();
}

Status PartitionLog::roll_for(int64_t line, Offset last, TimestampMs now) {
  Segment* seg = segments_.back().get();
  if (seg->is_empty()) return Status::ok();
  bool roll_now = seg->size() + line > config_.segment_bytes ||
                  // relative offsets and positions are u32 in the indexes
                  last - seg->base() > static_cast<int64_t>(UINT32_MAX) ||
                  seg->size() > static_cast<int64_t>(UINT32_MAX);
  if (!roll_now && config_.segment_ms != kNever) {
    KREEK_ASSIGN_OR_RETURN(TimestampMs first, seg->first_timestamp());
    roll_now = now.value() - first.value() > config_.segment_ms;
  }
  return roll_now ? roll() : Status::ok();
}

Result<AppendResult> PartitionLog::append(std::string_view records, int32_t n, uint32_t records_crc,
                                          LeaderEpoch epoch, TimestampMs now, const ProducerFields& producer) {
  if (n < 1) return invalid_request("append: record count " + std::to_string(n) + " is below 1");
  if (static_cast<int64_t>(records.size()) > config_.max_message_bytes)
    return Status(Code::kMessageTooLarge, "records of " + std::to_string(records.size()) +
                                              " bytes exceed max.message.bytes " +
                                              std::to_string(config_.max_message_bytes));
  // A newline inside would split the batch line and corrupt the framing.
  if (records.size() < 2 || records.front() != '[' || records.back() != ']' ||
      std::memchr(records.data(), '\n', records.size()) != nullptr)
    return invalid_request("append: records must be a JSON array on one line");
  if (epoch < latest_epoch())
    return Status(Code::kFencedEpoch, "append to " + partition_name() + ": epoch " +
                                          std::to_string(epoch.value()) + " is below the log's epoch " +
                                          std::to_string(latest_epoch().value()));

  BatchHeader h;
  h.base = log_end();
  h.n = n;
  h.epoch = epoch;
  h.ts = std::max(now, last_ts_);
  h.pid = producer.pid;
  h.pepoch = producer.pepoch;
  h.seq = producer.seq;
  h.crc = batch_crc(records_crc, encode_batch_head(h));
  std::string prefix = encode_batch_prefix(h);
  int64_t line = static_cast<int64_t>(prefix.size() + records.size() + kBatchSuffix.size());

  KREEK_RETURN_IF_ERROR(roll_for(line, h.last(), now));
  // The history first: a batch on disk whose epoch the checkpoint lacks is
  // found again at start-up only if it lies past the recovery point.
  KREEK_RETURN_IF_ERROR(note_epoch(epoch, h.base));
  Segment* seg = segments_.back().get();
  seg->set_index_interval(config_.index_interval_bytes);
  KREEK_RETURN_IF_ERROR(seg->append(h, prefix, records));
  observe_batch(h);
  last_ts_ = h.ts;
  last_epoch_ = epoch;
  if (unflushed_messages_ == 0) first_unflushed_ms_ = clock::monotonic_ms();
  unflushed_messages_ += n;
  return AppendResult{h.base, h.last(), h.ts};
}

Result<ReadResult> PartitionLog::read(Offset from, int64_t max_bytes, Offset limit) const {
  Offset start = log_start(), end = log_end();
  if (from < start || from > end)
    return Status(Code::kOffsetOutOfRange, "offset " + std::to_string(from.value()) +
                                               " is out of range [" + std::to_string(start.value()) +
                                               ", " + std::to_string(end.value()) + ")");
  ReadResult r;
  r.next = from;
  if (from == end || from >= limit) return r;
  auto it = std::upper_bound(segments_.begin(), segments_.end(), from,
                             [](Offset o, const std::shared_ptr<Segment>& s) { return o < s->base(); });
  bool first = true;
  int64_t budget = max_bytes;
  for (--it; it != segments_.end(); ++it) {
    const std::shared_ptr<Segment>& seg = *it;
    if (seg->base() >= limit) break;
    // A compacted segment may hold nothing at or after `from` (gaps; see
    // kreek-format(5)): the read goes on in the next segment. Damage ends the
    // read before it: what came before is returned, and the next read,
    // starting at the damaged batch, gets the error.
    Offset first_base;
    Result<std::optional<Segment::Extent>> found = std::optional<Segment::Extent>();
    if (!seg->is_empty() && seg->size() > 0)
      found = read_extent(*seg, std::max(from, seg->base()), budget, limit, first, &first_base);
    if (!found.is_ok()) {
      if (r.slices.empty()) return found.status();
      break;
    }
    if (!*found) {
      if (first && seg->end() <= limit) r.next = std::max(r.next, seg->end());
      continue;
    }
    const Segment::Extent* ext = &**found;
    if (first && ext->end_pos == ext->pos && first_base > from)
      r.next = std::max(r.next, std::min(first_base, limit));  // the gap before it
    first = false;
    if (ext->end_pos > ext->pos) {
      KREEK_ASSIGN_OR_RETURN(std::shared_ptr<File> file, seg->file());
      int64_t len = ext->end_pos - ext->pos;
      r.slices.push_back(FileSlice{seg, file->fd(), ext->pos, len, std::move(file)});
      r.bytes += len;
      budget -= len;
      r.next = ext->next;
    }
    if (!ext->reached_end || budget <= 0) break;
  }
  return r;
}

Result<Offset> PartitionLog::offset_for_time(TimestampMs ts) const {
  // Timestamps never decrease along the log (append stamps max(now, last)),
  // so segments that hold batches sort by their newest timestamp. Compaction
  // may leave closed segments empty; they are left out of the search.
  std::vector<Segment*> held;
  held.reserve(segments_.size());
  for (const auto& s : segments_)
    if (!s->is_empty() && s->size() > 0) held.push_back(s.get());
  size_t lo = 0, hi = held.size();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    KREEK_ASSIGN_OR_RETURN(TimestampMs max_ts, held[mid]->max_timestamp());
    if (max_ts < ts) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  for (size_t i = lo; i < held.size(); ++i) {
    KREEK_ASSIGN_OR_RETURN(std::optional<Offset> found, held[i]->offset_for_time(ts));
    if (found) return *found;
  }
  return log_end();
}

FlushPlan PartitionLog::plan_flush(size_t segment_count, Offset up_to) {
  FlushPlan plan;
  plan.up_to = up_to;
  plan.truncations = truncations_;
  plan.dir = dir_;
  for (size_t i = 0; i < segment_count; ++i) {
    const auto& s = segments_[i];
    if (!s->take_dirty()) continue;
    plan.segments.push_back(s);
    for (auto& f : s->files_to_sync()) plan.files.push_back(std::move(f));
    // One directory fsync per plan, however many segments it holds.
    if (s->take_dir_sync()) plan.fsync_dir = true;
  }
  return plan;
}

bool PartitionLog::has_unsynced() const {
  return unflushed_messages_ > 0 || unsynced_closed_ || segments_.back()->is_dirty();
}

FlushPlan PartitionLog::begin_flush() {
  FlushPlan plan = plan_flush(segments_.size(), log_end());
  unflushed_messages_ = 0;
  first_unflushed_ms_ = 0;
  unsynced_closed_ = false;
  return plan;
}

FlushPlan PartitionLog::begin_flush_closed() {
  FlushPlan plan = plan_flush(segments_.size() - 1, segments_.back()->base());
  plan.closed_only = true;
  unsynced_closed_ = false;
  return plan;
}

Status FlushPlan::run() {
  for (const auto& f : files) {
    Status s = f->sync();
    if (!s) {
      failed = true;
      return s;
    }
  }
  if (fsync_dir) {
    bool fsync_failed = false;
    Status s = sync_dir(dir, &fsync_failed);
    if (!s && s.code() != Code::kNotFound) {  // kNotFound: the topic was deleted
      // Only an fsync that returned an error may have lost data; a directory
      // that could not be opened was not synced, and is synced next time.
      if (fsync_failed) {
        failed = true;
      } else {
        retry = true;
      }
      return s;
    }
  }
  synced = true;
  return Status::ok();
}

Offset PartitionLog::plan_limit(const FlushPlan& plan) const {
  Offset limit = std::min(plan.up_to, log_end());
  if (plan.truncations == truncations_) return limit;
  // Truncated since the plan began: bytes at or past the lowest cut since
  // then may have been written after the plan took its files (and into files
  // it does not hold), so the plan vouches only for those below it.
  // Cuts too old to be kept one by one count through their minimum.
  if (plan.truncations < cuts_base_) limit = std::min(limit, cut_floor_);
  size_t from = plan.truncations > cuts_base_ ? static_cast<size_t>(plan.truncations - cuts_base_) : 0;
  for (size_t i = from; i < cuts_.size(); ++i) limit = std::min(limit, cuts_[i]);
  return limit;
}

void PartitionLog::note_cut(Offset cut) {
  ++truncations_;
  cuts_.push_back(cut);
  // Only a plan in flight reads these; a few suffice (at most one plan per
  // log is in flight), and older ones fold into one floor.
  if (cuts_.size() > 16) {
    cut_floor_ = std::min(cut_floor_, cuts_.front());
    cuts_.erase(cuts_.begin());
    ++cuts_base_;
  }
}

void PartitionLog::end_flush(const FlushPlan& plan) {
  for (const auto& s : plan.segments) s->end_plan();
  if (plan.synced) {
    // Only bytes really synced: up_to was fixed when the plan began, and every
    // segment below it was either in this plan or synced by an earlier one.
    if (sync_failed_) return;
    Offset limit = plan_limit(plan);
    if (epochs_unsaved_) {
      save_epochs(epochs_unsaved_from_);
      if (epochs_unsaved_) limit = std::min(limit, epochs_unsaved_from_);
    }
    recovery_point_ = std::max(recovery_point_, limit);
    return;
  }
  if (plan.failed) sync_failed_ = true;
  for (const auto& s : plan.segments) {
    s->mark_dirty();
    if (plan.fsync_dir) s->mark_dir_sync();
    if (s != segments_.back()) unsynced_closed_ = true;
  }
  if (plan.closed_only) return;  // its messages were never taken off the counters
  int64_t pending = plan_limit(plan) - recovery_point_;
  if (pending > 0) {
    if (unflushed_messages_ == 0) first_unflushed_ms_ = clock::monotonic_ms();
    unflushed_messages_ += pending;
  }
}

Status PartitionLog::flush() {
  FlushPlan plan = begin_flush();
  Status s = plan.run();
  end_flush(plan);
  // Shutdown flushes this way: the snapshot spares the next start a log scan.
  if (s.is_ok()) s = write_producer_snapshot();
  return s;
}

Status PartitionLog::refresh_tail() {
  last_ts_ = TimestampMs(-1);
  last_epoch_ = LeaderEpoch(-1);
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if ((*it)->is_empty() || (*it)->size() == 0) continue;  // compaction may empty a segment
    KREEK_ASSIGN_OR_RETURN(last_ts_, (*it)->last_timestamp());
    KREEK_ASSIGN_OR_RETURN(last_epoch_, (*it)->last_epoch());
    break;
  }
  return Status::ok();
}

Status PartitionLog::truncate_to(Offset offset) {
  if (offset >= log_end()) return Status::ok();
  offset = std::max(offset, Offset(0));
  // A compaction planned over the old segments must not be swapped in.
  ++cleaner_.layout_version;
  cleaner_.cleaned_to = std::min(cleaner_.cleaned_to, offset);
  if (offset <= log_start()) {
    // Nothing below `offset` survives: start over there (Kafka's truncateFullyAndStartAt).
    for (const auto& s : segments_) KREEK_RETURN_IF_ERROR(s->remove_files());
    segments_.clear();
    KREEK_ASSIGN_OR_RETURN(auto seg, Segment::create(dir_, offset, config_.index_interval_bytes));
    seg->allow_gaps(gaps_);
    segments_.push_back(std::move(seg));
  } else {
    while (segments_.back()->base() >= offset) {
      KREEK_RETURN_IF_ERROR(segments_.back()->remove_files());
      segments_.pop_back();
    }
    segments_.back()->set_descriptor_cache(nullptr);  // active again: never closed
    KREEK_RETURN_IF_ERROR(segments_.back()->truncate_to(offset));
  }
  note_cut(log_end());
  recovery_point_ = std::min(recovery_point_, log_end());
  high_watermark_ = std::min(high_watermark_, log_end());
  // The cut itself must reach the disk before the recovery point moves again.
  unflushed_messages_ = std::max<int64_t>(0, log_end() - recovery_point_);
  if (unflushed_messages_ > 0 && first_unflushed_ms_ == 0) first_unflushed_ms_ = clock::monotonic_ms();
  KREEK_RETURN_IF_ERROR(refresh_tail());
  KREEK_RETURN_IF_ERROR(rebuild_producers());
  // After the cut: a crash between the two leaves entries past the log end,
  // which start-up drops (kreek-format(5)).
  LeaderEpochCache before = epochs_;
  epochs_.truncate_from_end(log_end());
  if (offset <= log_start()) epochs_.truncate_from_start(log_start());
  if (epochs_.entries() != before.entries()) save_epochs(log_end());
  return Status::ok();
}

Status PartitionLog::remove() {
  segments_.clear();
  // Only the files kreek writes: whatever else someone put in the directory
  // stays, and so does the directory then.
  std::string left;
  KREEK_RETURN_IF_ERROR(remove_partition_dir(dir_, &left));
  if (!left.empty()) report(dir_ + ": removed kreek's files but left the directory: it holds " + left +
                            ", which kreek did not write");
  return Status::ok();
}

Result<std::string> read_slice(const FileSlice& slice) {
  if (!slice.owner) return internal_error("read slice: no segment");
  return slice.owner->read_bytes(slice.pos, slice.len);
}

}  // namespace kreek::storage
