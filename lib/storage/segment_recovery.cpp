// Segment::recover: the start-up check of a segment that may hold bytes written
// after the last fsync. Every batch from the recovery point on is verified
// (framing, CRC, base continuity); the file is cut at the first bad one and the
// indexes are rebuilt to match. kreek-format(5) states these rules.
#include "storage/segment.h"

namespace kreek::storage {

Result<Segment::Recovery> Segment::recover(Offset recovery_point, bool seal_if_clean,
                                           LeaderEpoch* epoch_floor,
                                           std::vector<LeaderEpochCache::Entry>* epoch_starts) {
  LeaderEpoch floor = epoch_floor ? *epoch_floor : LeaderEpoch(-1);
  KREEK_RETURN_IF_ERROR(ensure_open());
  KREEK_RETURN_IF_ERROR(open_index_files(true));
  reset_tail();
  int64_t size = log_->size();
  int64_t start = 0;
  Offset expected = base_;
  std::vector<OffsetEntry> oi;
  std::vector<TimeEntry> ti;

  // Batches below the recovery point were fsynced: when the index agrees
  // with the log at an entry at or below it, start verifying there.
  // Loaded even when unused, so an index that already matches is not rewritten.
  KREEK_RETURN_IF_ERROR(index_.load());
  KREEK_RETURN_IF_ERROR(time_index_.load());
  if (recovery_point > base_) {
    const auto& e = index_.entries();
    size_t valid = 0;
    while (valid < e.size() && static_cast<int64_t>(e[valid].pos) < size &&
           (valid == 0 || (e[valid].rel > e[valid - 1].rel && e[valid].pos > e[valid - 1].pos)))
      ++valid;
    size_t i = valid;
    while (i > 0 && base_ + e[i - 1].rel > recovery_point) --i;
    if (i > 0) {
      const OffsetEntry entry = e[i - 1];
      auto at = read_batch_prefix(*log_, entry.pos);
      auto first = read_batch_prefix(*log_, 0);
      if (at && first && at->header.base == base_ + entry.rel && batch_follows(base_, first->header.base, gaps_)) {
        start = entry.pos;
        expected = at->header.base;
        oi.assign(e.begin(), e.begin() + static_cast<std::ptrdiff_t>(i));
        for (const TimeEntry& t : time_index_.entries()) {
          if (t.rel > entry.rel || (!ti.empty() && t.ts <= ti.back().ts)) break;
          ti.push_back(t);
        }
        if (!ti.empty()) {
          max_ts_ = TimestampMs(ti.back().ts);
          rel_of_max_ = ti.back().rel;
        }
        first_ts_ = first->header.ts;
      }
    }
  }

  // Verification reads big windows: this may be a whole segment.
  BatchScanner scan(*log_, start, BatchScanner::Mode::kVerify, 1 << 20);
  const Offset verified_from = expected;
  Recovery r;
  ScannedBatch b;
  while (scan.next(&b)) {
    // Gaps are allowed in compacted logs (compaction removes records but
    // never renumbers); overlaps and a first batch below the segment's name
    // are always damage.
    if (!batch_follows(expected, b.header.base, gaps_)) {
      r.truncated = true;
      r.bad_pos = b.pos;
      r.reason = corrupt(b.pos == 0 ? "first batch has base " + std::to_string(b.header.base.value()) +
                                          " but the segment file is named for " +
                                          std::to_string(base_.value())
                                    : "batch base " + std::to_string(b.header.base.value()) +
                                          " does not follow the previous batch's end " +
                                          std::to_string(expected.value()));
      break;
    }
    // A leader never writes below an epoch already in the log, and a
    // follower refuses such a batch: one that goes back is damage.
    if (b.header.epoch < floor) {
      r.truncated = true;
      r.bad_pos = b.pos;
      r.reason = corrupt("batch at offset " + std::to_string(b.header.base.value()) + " has epoch " +
                         std::to_string(b.header.epoch.value()) + ", below the previous batch's epoch " +
                         std::to_string(floor.value()));
      break;
    }
    if (b.header.epoch > floor) {
      if (epoch_starts) epoch_starts->push_back(LeaderEpochCache::Entry{b.header.epoch, b.header.base});
      floor = b.header.epoch;
    }
    NewEntries ne = note_batch(b.header, b.pos, b.len, ti.empty() ? nullptr : &ti.back());
    if (ne.offset) oi.push_back(*ne.offset);
    if (ne.time) ti.push_back(*ne.time);
    expected = b.header.next();
  }
  if (!r.truncated && !scan.status().is_ok()) {
    // A read error is not damage: cutting the file would destroy good data.
    if (scan.status().code() == Code::kIoError) return scan.status();
    r.truncated = true;
    r.bad_pos = scan.pos();
    r.reason = scan.status();
  }
  if (epoch_floor) *epoch_floor = floor;
  if (r.truncated) {
    r.bad_offset = expected;
    r.dropped = size - r.bad_pos;
    KREEK_RETURN_IF_ERROR(log_->truncate(r.bad_pos));
  }
  end_ = expected;
  // What was just verified need not be again when it is first read.
  verified_.cut(start, verified_from);
  verified_.add(VerifiedRange{start, r.truncated ? r.bad_pos : size, verified_from, expected});
  damage_.reset();
  if (seal_if_clean && !r.truncated && max_ts_.value() >= 0 &&
      (ti.empty() || ti.back().ts < max_ts_.value()))
    ti.push_back(TimeEntry{max_ts_.value(), rel_of_max_});
  KREEK_RETURN_IF_ERROR(index_.rewrite(std::move(oi)));
  KREEK_RETURN_IF_ERROR(time_index_.rewrite(std::move(ti)));
  loaded_ = true;
  dirty_ = true;
  return r;
}

}  // namespace kreek::storage
