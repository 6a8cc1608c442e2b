// Segment::verify: the read path's check of bytes nobody has vouched for yet.
// Segments below the recovery point are trusted at start-up (reading them all
// would make restarts as slow as the log is long), so a bit flipped, a page
// zeroed or a file shortened after the data was flushed is found here instead,
// the first time a read reaches it, and never served. kreek-format(5),
// RECOVERY, states the promise.
#include <algorithm>

#include "base/log.h"
#include "storage/segment.h"

namespace kreek::storage {

Status Segment::note_damage(int64_t pos, Offset offset, const std::string& why) {
  if (damage_ && damage_->pos <= pos) return damage_->status;
  bool first = !damage_;
  Status s = corrupt(name_ + ": corrupt batch at offset " + std::to_string(offset.value()) +
                     " (file pos " + std::to_string(pos) + "): " + why);
  damage_ = Damage{pos, offset, s};
  // Once per segment, not per fetch: every later read of it gets the status.
  if (first) log::error(s.message() + "; reads of this segment stop there");
  return s;
}

Result<Segment::Checked> Segment::verify(int64_t pos, Offset first, int64_t end) {
  KREEK_RETURN_IF_ERROR(ensure_open());
  // Known damage inside (or right at the end of) the range ends it: the offset
  // there is damage_->offset, whatever the caller's scan assumed.
  const bool clamped = damage_ && damage_->pos >= pos && damage_->pos <= end;
  if (clamped) end = damage_->pos;
  const int64_t size = log_->size();
  int64_t at = pos;
  Offset next = first;
  // A checked range ending right at pos is joined to what is checked here: its
  // end must lead to the batch at pos.
  if (const VerifiedRange* before = pos > 0 ? verified_.covering(pos - 1) : nullptr;
      before != nullptr && before->end == pos && pos < end && !verified_.covering(pos) &&
      !batch_follows(before->next, first, gaps_)) {
    (void)note_damage(pos, before->next,
                      "batch base " + std::to_string(first.value()) +
                          " does not follow the previous batch's end " +
                          std::to_string(before->next.value()));
    return Checked{pos, true};
  }
  while (at < end) {
    if (const VerifiedRange* r = verified_.covering(at)) {
      at = r->end;
      next = r->next;
      continue;
    }
    const VerifiedRange* after = verified_.next_after(at);
    int64_t gap_end = after ? std::min(end, after->pos) : end;
    // One window for a small gap; the scanner streams lines longer than it.
    size_t window = static_cast<size_t>(std::clamp<int64_t>(gap_end - at, 1, 1 << 20));
    BatchScanner scan(*log_, at, BatchScanner::Mode::kVerify, window);
    const int64_t gap_start = at;
    const Offset gap_first = next;
    ScannedBatch b;
    std::string bad;
    while (at < gap_end && scan.next(&b)) {
      if (!batch_follows(next, b.header.base, gaps_)) {
        bad = "batch base " + std::to_string(b.header.base.value()) +
              " does not follow the previous batch's end " + std::to_string(next.value());
        break;
      }
      if (b.end() > gap_end) {
        bad = "batch line runs past a batch boundary at file pos " + std::to_string(gap_end);
        break;
      }
      at = b.end();
      next = b.header.next();
    }
    if (bad.empty() && at < gap_end) {
      // A read error is not damage: report it, and verify again next time.
      if (scan.status().code() == Code::kIoError) return scan.status();
      bad = scan.status().is_ok() ? "batch lines end early" : scan.status().message();
    }
    if (bad.empty() && at == size && !batch_follows(next, end_, gaps_))
      bad = "the segment file ends at offset " + std::to_string(next.value()) +
            " but its offsets run to " + std::to_string(end_.value());
    if (bad.empty() && after != nullptr && at == after->pos && !batch_follows(next, after->first, gaps_))
      bad = "batch base " + std::to_string(after->first.value()) +
            " does not follow the previous batch's end " + std::to_string(next.value());
    // A range that failed to lead into the next one must not be joined to it.
    if (bad.empty() || after == nullptr || at != after->pos)
      verified_.add(VerifiedRange{gap_start, at, gap_first, next});
    if (!bad.empty()) {
      (void)note_damage(at, next, bad);
      return Checked{at, true};
    }
  }
  return Checked{end, clamped};
}

}  // namespace kreek::storage
