// Segment: appends, lazy index loading and validation, index rebuilds, and the
// lookups the read path and offset_for_time use. Recovery lives in
// segment_recovery.cpp.
#include "storage/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "base/base.h"
#include "base/log.h"
#include "base/atomic_file.h"

namespace kreek::storage {
std::string segment_path(const std::string& dir, Offset base, std::string_view ext) {
  char name[32];
  std::snprintf(name, sizeof name, "%020lld", static_cast<long long>(base.value()));
  std::string p = dir;
  p += '/';
  p += name;
  p += ext;
  return p;
}

Segment::Segment(std::string dir, Offset base)
    : dir_(std::move(dir)),
      name_(dir_.empty() ? std::string("<memory>") : segment_path(dir_, base, ".log")),
      base_(base),
      end_(base) {}

Segment::~Segment() {
  if (fd_cache_) fd_cache_->forget(this);
}

void Segment::set_descriptor_cache(std::shared_ptr<DescriptorCache> cache) {
  if (fd_cache_) fd_cache_->forget(this);
  fd_cache_ = std::move(cache);
  if (fd_cache_ && log_) fd_cache_->touch(this);
}

bool Segment::close_log() {
  if (!log_) return true;
  if (dirty_) {
    // Limitation: this fdatasync runs on the owner thread. It happens only
    // when more closed segments wait for their background sync than the
    // bound allows, and then acts as back-pressure on the rolls.
    Status s = log_->sync();
    if (!s) {
      log::error("sync " + name_ + " before closing its descriptor: " + s.message());
      return false;
    }
  }
  std::lock_guard<std::mutex> lock(files_mu_);
  stat_size_ = log_->size();  // a closed segment's size no longer changes
  log_.reset();
  return true;
}

Result<std::shared_ptr<Segment>> Segment::create(const std::string& dir, Offset base,
                                                 int64_t index_interval) {
  std::shared_ptr<Segment> s(new Segment(dir, base));
  s->index_interval_ = index_interval;
  KREEK_ASSIGN_OR_RETURN(s->log_, open_posix_file(s->name_, true));
  if (s->log_->size() > 0) KREEK_RETURN_IF_ERROR(s->log_->truncate(0));  // a stale leftover
  KREEK_RETURN_IF_ERROR(s->open_index_files(true));
  KREEK_RETURN_IF_ERROR(s->index_.rewrite({}));
  KREEK_RETURN_IF_ERROR(s->time_index_.rewrite({}));
  if (s->index_.file()->size() > 0) KREEK_RETURN_IF_ERROR(s->index_.file()->truncate(0));
  if (s->time_index_.file()->size() > 0) KREEK_RETURN_IF_ERROR(s->time_index_.file()->truncate(0));
  // The new directory entries reach the disk with the segment's first sync.
  s->dir_sync_pending_ = true;
  s->loaded_ = true;
  s->dirty_ = true;
  return s;
}

Result<std::shared_ptr<Segment>> Segment::open_closed(const std::string& dir, Offset base, Offset end,
                                                      int64_t index_interval) {
  std::shared_ptr<Segment> s(new Segment(dir, base));
  s->index_interval_ = index_interval;
  s->end_ = end;
  return s;
}

std::shared_ptr<Segment> Segment::over_files(Offset base, Offset end, std::unique_ptr<File> log,
                                             std::unique_ptr<File> index,
                                             std::unique_ptr<File> time_index,
                                             int64_t index_interval) {
  std::shared_ptr<Segment> s(new Segment("", base));
  s->index_interval_ = index_interval;
  s->end_ = end;
  s->log_ = std::move(log);
  s->index_.attach(std::move(index));
  s->time_index_.attach(std::move(time_index));
  if (s->log_->size() == 0 && end == base) {
    s->loaded_ = true;
  }
  return s;
}

int64_t Segment::size() const {
  if (log_) return log_->size();
  if (stat_size_ < 0) {
    struct stat st;
    stat_size_ = ::stat(name_.c_str(), &st) == 0 ? st.st_size : 0;
  }
  return stat_size_;
}

Status Segment::ensure_open() {
  if (!log_) {
    KREEK_ASSIGN_OR_RETURN(std::unique_ptr<File> f, open_posix_file(name_, false));
    std::lock_guard<std::mutex> lock(files_mu_);
    log_ = std::move(f);
  }
  if (fd_cache_) fd_cache_->touch(this);  // most recently used; may close others
  return Status::ok();
}

Status Segment::open_index_files(bool create) {
  if (dir_.empty()) return Status::ok();
  if (!index_.has_file()) {
    KREEK_ASSIGN_OR_RETURN(auto f, open_posix_file(segment_path(dir_, base_, ".index"), create));
    std::lock_guard<std::mutex> lock(files_mu_);
    index_.attach(std::move(f));
  }
  if (!time_index_.has_file()) {
    KREEK_ASSIGN_OR_RETURN(auto f, open_posix_file(segment_path(dir_, base_, ".timeindex"), create));
    std::lock_guard<std::mutex> lock(files_mu_);
    time_index_.attach(std::move(f));
  }
  return Status::ok();
}

void Segment::close_index_files() {
  if (dir_.empty()) return;  // caller-supplied files cannot be reopened
  std::lock_guard<std::mutex> lock(files_mu_);
  index_.release_file();
  time_index_.release_file();
}

void Segment::reset_tail() {
  max_ts_ = TimestampMs(-1);
  rel_of_max_ = 0;
  last_ts_ = TimestampMs(-1);
  first_ts_ = TimestampMs(-1);
  last_epoch_ = LeaderEpoch(-1);
  bytes_since_entry_ = 0;
}

Segment::NewEntries Segment::note_batch(const BatchHeader& h, int64_t pos, int64_t len,
                                        const TimeEntry* last_time) {
  NewEntries out;
  uint32_t rel = static_cast<uint32_t>(h.base - base_);
  if (h.ts > max_ts_) {
    max_ts_ = h.ts;
    rel_of_max_ = rel;
  }
  // Kafka's rule: an entry for the first batch after index.interval.bytes.
  if (bytes_since_entry_ >= index_interval_) {
    out.offset = OffsetEntry{rel, static_cast<uint32_t>(pos)};
    if (last_time == nullptr || max_ts_.value() > last_time->ts)
      out.time = TimeEntry{max_ts_.value(), rel_of_max_};
    bytes_since_entry_ = 0;
  }
  bytes_since_entry_ += len;
  if (pos == 0) first_ts_ = h.ts;
  last_ts_ = h.ts;
  last_epoch_ = h.epoch;
  return out;
}

Status Segment::fail_corrupt(int64_t pos, const Status& why) const {
  if (why.code() == Code::kIoError) return why;
  return corrupt(name_ + ": bad batch at file pos " + std::to_string(pos) + ": " + why.message());
}

Status Segment::append(const BatchHeader& h, std::string_view prefix, std::string_view records) {
  KREEK_RETURN_IF_ERROR(ensure_loaded());
  KREEK_RETURN_IF_ERROR(open_index_files(true));
  KREEK_CHECK(batch_follows(end_, h.base, gaps_));  // see allow_gaps()
  int64_t pos = log_->size();
  KREEK_CHECK(pos <= static_cast<int64_t>(UINT32_MAX));
  struct iovec iov[3] = {
      {const_cast<char*>(prefix.data()), prefix.size()},
      {const_cast<char*>(records.data()), records.size()},
      {const_cast<char*>(kBatchSuffix.data()), kBatchSuffix.size()},
  };
  KREEK_RETURN_IF_ERROR(log_->appendv(iov, 3));
  dirty_ = true;
  end_ = h.next();
  int64_t len = static_cast<int64_t>(prefix.size() + records.size() + kBatchSuffix.size());
  // The caller validated the records and their CRC, and the prefix is ours:
  // these bytes are checked without reading them back.
  verified_.add(VerifiedRange{pos, pos + len, h.base, h.next()});
  const TimeEntry* last_time = time_index_.empty() ? nullptr : &time_index_.entries().back();
  NewEntries e = note_batch(h, pos, len, last_time);
  // An index write failure is not the append's failure: the entry is kept in
  // memory and the file is rewritten on the next entry (or rebuilt at start-up).
  if (e.offset) {
    Status s = index_.append(*e.offset);
    if (!s) log::warn("index " + name_ + ": " + s.message());
  }
  if (e.time) {
    Status s = time_index_.append(*e.time);
    if (!s) log::warn("time index " + name_ + ": " + s.message());
  }
  return Status::ok();
}

Status Segment::seal() {
  KREEK_RETURN_IF_ERROR(ensure_loaded());
  KREEK_RETURN_IF_ERROR(open_index_files(true));
  if (max_ts_.value() < 0) return Status::ok();
  if (!time_index_.empty() && time_index_.entries().back().ts >= max_ts_.value()) return Status::ok();
  dirty_ = true;
  return time_index_.append(TimeEntry{max_ts_.value(), rel_of_max_});
}

Status Segment::ensure_loaded() {
  KREEK_RETURN_IF_ERROR(ensure_open());
  if (loaded_) return Status::ok();
  KREEK_RETURN_IF_ERROR(open_index_files(true));
  KREEK_RETURN_IF_ERROR(index_.load());
  KREEK_RETURN_IF_ERROR(time_index_.load());
  KREEK_ASSIGN_OR_RETURN(bool agrees, load_tail(true));
  if (!agrees) {
    log::debug("segment " + name_ + ": index stale or missing, rebuilding it from the log");
    KREEK_RETURN_IF_ERROR(rebuild_indexes());
  }
  if (log_->size() > 0 && !(damage_ && damage_->pos == 0)) {
    auto first = read_batch_prefix(*log_, 0);
    if (first) {
      first_ts_ = first->header.ts;
    } else if (first.status().code() == Code::kIoError) {
      return first.status();
    } else {
      (void)note_damage(0, base_, first.status().message());
    }
  }
  loaded_ = true;
  close_index_files();  // entries are in memory now; appends reopen them
  return Status::ok();
}

Result<bool> Segment::load_tail(bool require_seal) {
  reset_tail();
  int64_t size = log_->size();
  const auto& oi = index_.entries();
  const auto& ti = time_index_.entries();
  int64_t span = end_ - base_;
  if (!index_.clean() || !time_index_.clean()) return false;
  for (size_t i = 0; i < oi.size(); ++i) {
    if (static_cast<int64_t>(oi[i].pos) >= size || oi[i].rel >= span) return false;
    if (i > 0 && (oi[i].rel <= oi[i - 1].rel || oi[i].pos <= oi[i - 1].pos)) return false;
  }
  for (size_t i = 0; i < ti.size(); ++i) {
    if (ti[i].rel >= span || ti[i].ts < 0) return false;
    if (i > 0 && (ti[i].ts <= ti[i - 1].ts || ti[i].rel < ti[i - 1].rel)) return false;
  }
  int64_t start = oi.empty() ? 0 : oi.back().pos;
  Offset expected = oi.empty() ? base_ : base_ + oi.back().rel;
  if (!ti.empty()) {
    max_ts_ = TimestampMs(ti.back().ts);
    rel_of_max_ = ti.back().rel;
  }
  BatchScanner scan(*log_, start, BatchScanner::Mode::kBoundaries);
  ScannedBatch b;
  while (scan.next(&b)) {
    if (!batch_follows(expected, b.header.base, gaps_)) return false;
    (void)note_batch(b.header, b.pos, b.len, nullptr);
    expected = b.header.next();
  }
  if (scan.status().code() == Code::kIoError) return scan.status();
  if (!scan.status().is_ok() || !batch_follows(expected, end_, gaps_)) return false;
  bytes_since_entry_ = size - start;
  if (require_seal && size > 0 && (ti.empty() || ti.back().ts != max_ts_.value())) return false;
  return true;
}

Status Segment::rebuild_indexes() {
  reset_tail();
  std::vector<OffsetEntry> oi;
  std::vector<TimeEntry> ti;
  BatchScanner scan(*log_, 0, BatchScanner::Mode::kBoundaries);
  ScannedBatch b;
  Offset expected = base_;
  // Damage ends the index where it starts; reads of the part before it go on
  // (verify() and damage() keep anything at or after it from being served).
  bool damaged = false;
  while (scan.next(&b)) {
    if (!batch_follows(expected, b.header.base, gaps_)) {
      (void)note_damage(b.pos, expected,
                        "batch base " + std::to_string(b.header.base.value()) + " where " +
                            std::to_string(expected.value()) + " was expected");
      damaged = true;
      break;
    }
    NewEntries e = note_batch(b.header, b.pos, b.len, ti.empty() ? nullptr : &ti.back());
    if (e.offset) oi.push_back(*e.offset);
    if (e.time) ti.push_back(*e.time);
    expected = b.header.next();
  }
  if (!damaged && !scan.status().is_ok()) {
    if (scan.status().code() == Code::kIoError) return scan.status();
    (void)note_damage(scan.pos(), expected, scan.status().message());
    damaged = true;
  }
  if (!damaged && !batch_follows(expected, end_, gaps_))
    (void)note_damage(log_->size(), expected,
                      "batches end at offset " + std::to_string(expected.value()) +
                          " but the next segment starts at " + std::to_string(end_.value()));
  if (max_ts_.value() >= 0 && (ti.empty() || ti.back().ts < max_ts_.value()))
    ti.push_back(TimeEntry{max_ts_.value(), rel_of_max_});
  KREEK_RETURN_IF_ERROR(index_.rewrite(std::move(oi)));
  return time_index_.rewrite(std::move(ti));
}

Status Segment::truncate_to(Offset offset) {
  KREEK_RETURN_IF_ERROR(ensure_loaded());
  KREEK_RETURN_IF_ERROR(open_index_files(true));
  if (offset >= end_) return Status::ok();
  int64_t cut = 0;
  Offset new_end = base_;
  if (offset > base_) {
    KREEK_ASSIGN_OR_RETURN(std::optional<ScannedBatch> b, find_batch(offset));
    // In a compacted gap the batches before the cut end below `offset`.
    cut = b ? b->pos : log_->size();
    new_end = b ? std::min(b->header.base, offset) : offset;
  }
  KREEK_RETURN_IF_ERROR(log_->truncate(cut));
  dirty_ = true;
  verified_.cut(cut, new_end);
  if (damage_ && damage_->pos >= cut) damage_.reset();
  uint32_t rel_cut = static_cast<uint32_t>(new_end - base_);
  const auto& oi = index_.entries();
  size_t keep = 0;
  while (keep < oi.size() && oi[keep].rel < rel_cut) ++keep;
  KREEK_RETURN_IF_ERROR(index_.keep_first(keep));
  const auto& ti = time_index_.entries();
  keep = 0;
  while (keep < ti.size() && ti[keep].rel < rel_cut) ++keep;
  KREEK_RETURN_IF_ERROR(time_index_.keep_first(keep));
  end_ = new_end;
  TimestampMs first = first_ts_;
  KREEK_ASSIGN_OR_RETURN(bool agrees, load_tail(false));
  if (!agrees) KREEK_RETURN_IF_ERROR(rebuild_indexes());
  first_ts_ = cut > 0 ? first : TimestampMs(-1);
  return Status::ok();
}

Result<ScannedBatch> Segment::locate(Offset offset) {
  KREEK_ASSIGN_OR_RETURN(std::optional<ScannedBatch> b, find_batch(offset));
  if (!b)
    return corrupt(name_ + ": offset " + std::to_string(offset.value()) + " not found before end of segment");
  return *b;
}

void Segment::cover_to(Offset end) {
  KREEK_CHECK(end >= end_);
  end_ = end;
}

Result<std::optional<ScannedBatch>> Segment::find_batch(Offset offset) {
  KREEK_RETURN_IF_ERROR(ensure_loaded());
  if (offset < base_ || offset >= end_)
    return internal_error(name_ + ": offset " + std::to_string(offset.value()) + " is not in [" +
                          std::to_string(base_.value()) + ", " + std::to_string(end_.value()) + ")");
  if (damage_ && offset >= damage_->offset) return damage_->status;
  uint32_t rel = static_cast<uint32_t>(offset - base_);
  const auto& oi = index_.entries();
  auto it = std::upper_bound(oi.begin(), oi.end(), rel,
                             [](uint32_t r, const OffsetEntry& e) { return r < e.rel; });
  int64_t start = it == oi.begin() ? 0 : std::prev(it)->pos;
  // The index entry (or the segment start) says which offset starts there.
  Offset expected = it == oi.begin() ? base_ : base_ + std::prev(it)->rel;
  BatchScanner scan(*log_, start, BatchScanner::Mode::kBoundaries);
  ScannedBatch b;
  while (scan.next(&b)) {
    if (!batch_follows(expected, b.header.base, gaps_))
      return note_damage(b.pos, expected,
                         "batch base " + std::to_string(b.header.base.value()) + " where " +
                             std::to_string(expected.value()) + " was expected");
    if (b.header.next() > offset) return std::optional<ScannedBatch>(b);
    expected = b.header.next();
  }
  if (!scan.status().is_ok()) {
    if (scan.status().code() == Code::kIoError) return scan.status();
    return note_damage(scan.pos(), expected, scan.status().message());
  }
  // Compaction removed everything from `offset` to the end of this segment.
  if (gaps_) return std::optional<ScannedBatch>();
  return note_damage(scan.pos(), expected,
                     "offset " + std::to_string(offset.value()) + " not found before the end of the file");
}

Result<Segment::Extent> Segment::extent(const ScannedBatch& first, int64_t max_bytes, Offset limit,
                                        bool take_first) {
  KREEK_RETURN_IF_ERROR(ensure_loaded());
  Extent out{first.pos, first.pos, first.header.base, false};
  if (first.header.next() > limit) return out;
  if (first.len > max_bytes && !take_first) return out;
  int64_t size = log_->size();
  if (end_ <= limit && size - first.pos <= max_bytes) return Extent{first.pos, size, end_, true};
  out = Extent{first.pos, first.end(), first.header.next(), false};
  // Skip ahead with the index: an entry is a batch boundary at a known offset.
  const auto& oi = index_.entries();
  int64_t max_end = first.pos + max_bytes;
  auto by_pos = std::upper_bound(oi.begin(), oi.end(), max_end,
                                 [](int64_t p, const OffsetEntry& e) { return p < static_cast<int64_t>(e.pos); });
  auto by_off = std::upper_bound(oi.begin(), oi.end(), limit - base_,
                                 [](int64_t r, const OffsetEntry& e) { return r < static_cast<int64_t>(e.rel); });
  auto lim = std::min(by_pos, by_off);
  if (lim != oi.begin()) {
    const OffsetEntry& e = *std::prev(lim);
    if (static_cast<int64_t>(e.pos) > out.end_pos) out = Extent{first.pos, e.pos, base_ + e.rel, false};
  }
  // Damage met here ends the extent before it (recorded; verify() then stops
  // the read there too), so the batches before it are still served.
  BatchScanner scan(*log_, out.end_pos, BatchScanner::Mode::kBoundaries);
  ScannedBatch b;
  while (scan.next(&b)) {
    if (b.end() > max_end || b.header.next() > limit) return out;
    if (!batch_follows(out.next, b.header.base, gaps_)) {
      (void)note_damage(b.pos, out.next,
                        "batch base " + std::to_string(b.header.base.value()) + " where " +
                            std::to_string(out.next.value()) + " was expected");
      return out;
    }
    out.end_pos = b.end();
    out.next = b.header.next();
  }
  if (!scan.status().is_ok()) {
    if (scan.status().code() == Code::kIoError) return scan.status();
    (void)note_damage(scan.pos(), out.next, scan.status().message());
    return out;
  }
  out.reached_end = true;
  return out;
}

Result<std::optional<Offset>> Segment::offset_for_time(TimestampMs ts) {
  KREEK_RETURN_IF_ERROR(ensure_loaded());
  if (is_empty() || max_ts_ < ts) return std::optional<Offset>();
  // Entries before `it` have max ts < ts: every batch up to their offset is older.
  const auto& ti = time_index_.entries();
  auto it = std::lower_bound(ti.begin(), ti.end(), ts.value(),
                             [](const TimeEntry& e, int64_t t) { return e.ts < t; });
  int64_t start = 0;
  if (it != ti.begin()) {
    uint32_t rel = std::prev(it)->rel;
    const auto& oi = index_.entries();
    auto o = std::upper_bound(oi.begin(), oi.end(), rel,
                              [](uint32_t r, const OffsetEntry& e) { return r < e.rel; });
    if (o != oi.begin()) start = std::prev(o)->pos;
  }
  BatchScanner scan(*log_, start, BatchScanner::Mode::kBoundaries);
  ScannedBatch b;
  while (scan.next(&b)) {
    if (b.header.ts >= ts) return std::optional<Offset>(b.header.base);
  }
  if (!scan.status().is_ok()) return fail_corrupt(scan.pos(), scan.status());
  return std::optional<Offset>();
}

Result<TimestampMs> Segment::max_timestamp() {
  KREEK_RETURN_IF_ERROR(ensure_loaded());
  return max_ts_;
}

Result<TimestampMs> Segment::last_timestamp() {
  KREEK_RETURN_IF_ERROR(ensure_loaded());
  return last_ts_;
}

Result<LeaderEpoch> Segment::last_epoch() {
  KREEK_RETURN_IF_ERROR(ensure_loaded());
  return last_epoch_;
}

Result<TimestampMs> Segment::first_timestamp() {
  KREEK_RETURN_IF_ERROR(ensure_loaded());
  return first_ts_;
}

Result<int> Segment::fd() {
  KREEK_RETURN_IF_ERROR(ensure_open());
  return log_->fd();
}

Result<std::shared_ptr<File>> Segment::file() {
  KREEK_RETURN_IF_ERROR(ensure_open());
  return log_;
}

Result<std::string> Segment::read_bytes(int64_t pos, int64_t len) {
  KREEK_RETURN_IF_ERROR(ensure_open());
  std::string out(static_cast<size_t>(len), '\0');
  KREEK_ASSIGN_OR_RETURN(size_t got, log_->pread(pos, out.data(), out.size()));
  if (static_cast<int64_t>(got) != len) return io_error("read " + name_ + ": short read");
  return out;
}

std::vector<std::shared_ptr<File>> Segment::files_to_sync() {
  // A log the bound closed was synced by close_log() first (a segment in a
  // plan is never closed): reopening it only to sync it again would cost a
  // descriptor per segment, which is what the bound is there to avoid.
  std::vector<std::shared_ptr<File>> out;
  std::lock_guard<std::mutex> lock(files_mu_);
  if (log_) out.push_back(log_);
  // Closed segments' index files are already closed: they are rebuildable
  // and validated on load, so only the active segment's are synced.
  if (auto f = index_.shared_file()) out.push_back(std::move(f));
  if (auto f = time_index_.shared_file()) out.push_back(std::move(f));
  return out;
}

Status Segment::sync() {
  std::shared_ptr<File> log, index, time_index;
  {
    std::lock_guard<std::mutex> lock(files_mu_);
    log = log_;
    index = index_.shared_file();
    time_index = time_index_.shared_file();
  }
  if (log) KREEK_RETURN_IF_ERROR(log->sync());
  // Closed segments' index files are already closed: they are rebuildable
  // and validated on load, so only the active segment's are synced.
  if (index) KREEK_RETURN_IF_ERROR(index->sync());
  if (time_index) KREEK_RETURN_IF_ERROR(time_index->sync());
  if (dir_sync_pending_.exchange(false)) {
    Status s = sync_dir(dir_);
    if (!s && s.code() != Code::kNotFound) {
      dir_sync_pending_ = true;  // try again with the next flush
      return s;
    }
  }
  return Status::ok();
}

Status Segment::remove_files() {
  if (dir_.empty()) return Status::ok();
  for (std::string_view ext : {".log", ".index", ".timeindex"}) {
    std::string p = segment_path(dir_, base_, ext);
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return errno_status("unlink", p, errno);
  }
  return Status::ok();
}

}  // namespace kreek::storage
