// CompactionPlan::run: the worker half of a compaction. Pass one reads the
// dirty segments and maps each key to its newest offset; pass two rewrites
// every planned segment, keeping a record unless a newer one has its key, it
// has no key, or it is a tombstone that already survived a compaction and is
// older than delete.retention.ms. Surviving runs of a batch become batches of
// their own (same epoch and ts, base = the run's first offset, new CRC).
#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/crc32c.h"
#include "storage/batch_format.h"
#include "storage/batch_scanner.h"
#include "storage/compactor.h"
#include "storage/file.h"
#include "storage/producer_state.h"
#include "storage/record_split.h"
#include "storage/segment.h"
#include "storage/segment_swap.h"

namespace kreek::storage {

// Kafka keeps a hash per key; kreek keeps the key bytes, counted with a rough
// per-entry overhead so max_map_bytes bounds the real footprint.
struct CompactionPlan::KeyMap {
  static constexpr int64_t kEntryOverhead = 64;
  std::unordered_map<std::string, int64_t> latest;
  int64_t bytes = 0;
};

namespace {

// Batch lines of one segment file, each read whole and fully checked (CRC
// included: pass two copies bytes into a new file, so it must not launder
// damage into a freshly checksummed batch).
class LineReader {
 public:
  LineReader(const File& file, const std::string& path) : file_(file), path_(path),
      scan_(file, 0, BatchScanner::Mode::kBoundaries, 1 << 20) {}

  // False at the end of the file, or on an error (status()).
  bool next(ParsedBatch* out) {
    ScannedBatch b;
    if (!scan_.next(&b)) {
      if (!scan_.status().is_ok()) status_ = scan_.status().with_context(path_);
      return false;
    }
    line_.resize(static_cast<size_t>(b.len));
    auto got = file_.pread(b.pos, line_.data(), line_.size());
    if (!got.is_ok()) {
      status_ = got.status();
      return false;
    }
    if (*got != line_.size()) {
      status_ = io_error("read " + path_ + ": short read");
      return false;
    }
    auto parsed = parse_batch(line_);
    if (!parsed.is_ok()) {
      status_ = corrupt(path_ + ": bad batch at file pos " + std::to_string(b.pos) + ": " +
                        parsed.status().message());
      return false;
    }
    *out = *parsed;
    return true;
  }
  const Status& status() const { return status_; }
  std::string_view line() const { return line_; }

 private:
  const File& file_;
  const std::string& path_;
  BatchScanner scan_;
  std::string line_;
  Status status_;
};

Status cancelled_status() { return Status(Code::kInternal, "compaction cancelled"); }

}  // namespace

Status CompactionPlan::scan_dirty() {
  KeyMap& m = *map_;
  const int64_t lag = config_.min_compaction_lag_ms;
  std::vector<RecordSpan> spans;
  used_ = first_dirty_;
  for (size_t i = first_dirty_; i < sources_.size(); ++i) {
    const Source& src = sources_[i];
    KREEK_ASSIGN_OR_RETURN(auto file, open_posix_file(src.path, false));
    LineReader reader(*file, src.path);
    ParsedBatch p;
    bool blocked = false;
    while (reader.next(&p)) {
      if (cancelled_) return cancelled_status();
      const BatchHeader& h = p.header;
      // Timestamps never decrease along the log: everything from here on is
      // younger than min.compaction.lag.ms too.
      // Saturating: lag may be anything up to INT64_MAX.
      if (lag > 0 && (now_ < INT64_MIN + lag || h.ts.value() > now_ - lag)) {
        lag_blocked_until_ = h.ts.value() > INT64_MAX - lag ? INT64_MAX : h.ts.value() + lag;
        blocked = true;
        break;
      }
      KREEK_RETURN_IF_ERROR(split_records(p.records, spans).with_context(src.path));
      for (size_t j = 0; j < spans.size(); ++j) {
        if (!spans[j].keyed) continue;
        int64_t o = h.base.value() + static_cast<int64_t>(j);
        auto [it, inserted] = m.latest.try_emplace(spans[j].key, o);
        if (inserted) {
          m.bytes += static_cast<int64_t>(spans[j].key.size()) + KeyMap::kEntryOverhead;
        } else {
          it->second = o;
        }
      }
    }
    if (blocked) break;
    KREEK_RETURN_IF_ERROR(reader.status());
    used_ = i + 1;
    if (m.bytes > options_.max_map_bytes) break;  // the rest waits for the next run
  }
  return Status::ok();
}

Status CompactionPlan::write_group(Group& g) {
  if (cancelled_) return cancelled_status();  // e.g. the topic is being deleted: create nothing
  const Offset base = sources_[g.first].base;
  const Offset dirty_from =
      first_dirty_ < sources_.size() ? sources_[first_dirty_].base : sources_.back().end;
  std::unique_ptr<File> files[3];
  const char* exts[3] = {".log", ".index", ".timeindex"};
  for (int k = 0; k < 3; ++k) {
    std::string path = segment_path(dir_, base, exts[k]) + std::string(kCleanedSuffix);
    KREEK_ASSIGN_OR_RETURN(files[k], open_posix_file(path, true));
    if (files[k]->size() > 0) KREEK_RETURN_IF_ERROR(files[k]->truncate(0));
  }
  auto out = Segment::over_files(base, base, std::move(files[0]), std::move(files[1]),
                                 std::move(files[2]), config_.index_interval_bytes);
  out->allow_gaps(true);
  const KeyMap& m = *map_;
  std::vector<RecordSpan> spans;
  std::vector<char> keep;
  std::string records;
  int64_t before = 0, after = 0, bytes_before = 0;
  for (size_t i = g.first; i <= g.last; ++i) {
    const Source& src = sources_[i];
    bytes_before += src.size;
    KREEK_ASSIGN_OR_RETURN(auto file, open_posix_file(src.path, false));
    LineReader reader(*file, src.path);
    ParsedBatch p;
    Offset expected = src.base;
    while (reader.next(&p)) {
      if (cancelled_) return cancelled_status();
      const BatchHeader& h = p.header;
      if (h.base < expected || h.next() > src.end)
        return corrupt(src.path + ": batch at offset " + std::to_string(h.base.value()) +
                       " is out of order");
      expected = h.next();
      KREEK_RETURN_IF_ERROR(split_records(p.records, spans).with_context(src.path));
      if (static_cast<int64_t>(spans.size()) != h.n)
        return corrupt(src.path + ": batch at offset " + std::to_string(h.base.value()) +
                       " holds " + std::to_string(spans.size()) + " records, not " +
                       std::to_string(h.n));
      keep.assign(spans.size(), 1);
      int32_t kept = 0;
      for (size_t j = 0; j < spans.size(); ++j) {
        const RecordSpan& r = spans[j];
        int64_t o = h.base.value() + static_cast<int64_t>(j);
        if (!r.keyed) {
          keep[j] = 0;
          ++stats_.keyless_removed;
          continue;
        }
        auto it = m.latest.find(r.key);
        if (it != m.latest.end() && it->second > o) {
          keep[j] = 0;
          continue;
        }
        if (r.tombstone) {
          // Expired only once a compaction has kept it (it lies below the
          // dirty part) and its batch is older than delete.retention.ms.
          bool expired = Offset(o) < dirty_from && config_.delete_retention_ms != kNever &&
                         now_ - h.ts.value() > config_.delete_retention_ms;
          if (expired) {
            keep[j] = 0;
            ++stats_.tombstones_removed;
            continue;
          }
          if (oldest_tombstone_.value() < 0 || h.ts < oldest_tombstone_) oldest_tombstone_ = h.ts;
        }
        ++kept;
      }
      before += h.n;
      after += kept;
      if (kept == h.n) {  // untouched: the line as it was
        size_t prefix = static_cast<size_t>(p.records.data() - reader.line().data());
        KREEK_RETURN_IF_ERROR(out->append(h, reader.line().substr(0, prefix), p.records));
        continue;
      }
      // Each run of consecutive survivors becomes one batch.
      for (size_t j = 0; j < spans.size();) {
        if (!keep[j]) {
          ++j;
          continue;
        }
        size_t k = j;
        records.assign("[");
        while (k < spans.size() && keep[k]) {
          if (k > j) records += ',';
          records.append(p.records.substr(spans[k].begin, spans[k].end - spans[k].begin));
          ++k;
        }
        records += ']';
        BatchHeader run = h;
        run.base = h.base + static_cast<int64_t>(j);
        run.n = static_cast<int32_t>(k - j);
        // A run keeps its producer fields; its sequence is its first record's.
        if (run.is_idempotent()) run.seq = last_sequence(h.seq, static_cast<int32_t>(j) + 1);
        run.crc = batch_crc(crc32c::value(records), encode_batch_head(run));
        KREEK_RETURN_IF_ERROR(out->append(run, encode_batch_prefix(run), records));
        j = k;
      }
    }
    KREEK_RETURN_IF_ERROR(reader.status());
  }
  KREEK_RETURN_IF_ERROR(out->seal());
  KREEK_RETURN_IF_ERROR(out->sync());
  stats_.records_before += before;
  stats_.records_after += after;
  stats_.bytes_before += bytes_before;
  g.changed = g.first != g.last || after != before;
  stats_.bytes_after += g.changed ? out->size() : bytes_before;
  out.reset();
  if (!g.changed) remove_outputs(g);
  return Status::ok();
}

Status CompactionPlan::run() {
  const int64_t t0 = clock::monotonic_ms();
  ran_ = true;
  map_ = std::make_shared<KeyMap>();
  status_ = scan_dirty();
  if (status_.is_ok() && used_ == first_dirty_ && !tombstones_due_) used_ = 0;  // nothing new
  if (status_.is_ok() && used_ > 0) {
    // Groups of neighbours that fit one segment (segment.bytes, u32 index
    // fields) are merged into one cleaned segment named for the first.
    for (size_t i = 0; i < used_;) {
      Group g{i, i, false};
      int64_t size = sources_[i].size;
      while (g.last + 1 < used_) {
        const Source& nx = sources_[g.last + 1];
        if (size + nx.size > config_.segment_bytes || size + nx.size > int64_t{UINT32_MAX} ||
            nx.end - sources_[i].base > int64_t{UINT32_MAX})
          break;
        size += nx.size;
        ++g.last;
      }
      groups_.push_back(g);
      i = g.last + 1;
    }
    for (auto& g : groups_) {
      status_ = write_group(g);
      if (!status_.is_ok()) {
        remove_outputs(g);
        break;
      }
    }
    stats_.start = sources_.front().base;
    stats_.end = sources_[used_ - 1].end;
    stats_.segments_before = static_cast<int>(used_);
    stats_.segments_after = static_cast<int>(groups_.size());
  }
  map_.reset();
  stats_.run_ms = clock::monotonic_ms() - t0;
  return status_;
}

}  // namespace kreek::storage
