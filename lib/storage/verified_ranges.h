// VerifiedRanges: the byte ranges of one segment file whose every batch has
// been checked (framing, CRC-32C, base continuity) since the broker opened it:
// at recovery, at append, or by the read path on first use. A read checks only
// what no earlier read or append has, so each byte is checked at most once
// and later reads of it stay zero-copy (sendfile). Ranges start and end on
// batch boundaries and carry the offsets there; the caller checks that the
// offsets follow (batch_follows) before two ranges are joined.
#pragma once

#include <cstdint>
#include <map>

#include "base/strong_id.h"

namespace kreek::storage {

struct VerifiedRange {
  int64_t pos = 0;  // first byte (a batch boundary)
  int64_t end = 0;  // one past the last byte (a batch boundary)
  Offset first;     // base offset of the batch at pos
  Offset next;      // offset after the batch that ends at end
};

class VerifiedRanges {
 public:
  // The range holding byte `pos` (r.pos <= pos < r.end), or null.
  const VerifiedRange* covering(int64_t pos) const;
  // The first range starting after `pos`, or null.
  const VerifiedRange* next_after(int64_t pos) const;
  // Adds `r`, joining it with the ranges it touches or overlaps.
  void add(const VerifiedRange& r);
  // Forgets every byte at or after `pos`, a batch boundary whose offset is
  // `next` (the segment was truncated there).
  void cut(int64_t pos, Offset next);
  int64_t bytes() const;  // verified bytes in all
  size_t count() const { return by_pos_.size(); }

 private:
  std::map<int64_t, VerifiedRange> by_pos_;  // keyed by pos; disjoint, never touching
};

}  // namespace kreek::storage
