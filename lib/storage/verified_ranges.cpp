// VerifiedRanges: a sorted map of disjoint byte ranges (see verified_ranges.h).
#include "storage/verified_ranges.h"

#include <algorithm>
#include <iterator>

namespace kreek::storage {

const VerifiedRange* VerifiedRanges::covering(int64_t pos) const {
  auto it = by_pos_.upper_bound(pos);
  if (it == by_pos_.begin()) return nullptr;
  --it;
  return pos < it->second.end ? &it->second : nullptr;
}

const VerifiedRange* VerifiedRanges::next_after(int64_t pos) const {
  auto it = by_pos_.upper_bound(pos);
  return it == by_pos_.end() ? nullptr : &it->second;
}

void VerifiedRanges::add(const VerifiedRange& r) {
  if (r.end <= r.pos) return;
  VerifiedRange joined = r;
  // A range that ends at or after r.pos and starts at or before r.end touches r.
  auto it = by_pos_.upper_bound(r.pos);
  if (it != by_pos_.begin() && std::prev(it)->second.end >= r.pos) --it;
  while (it != by_pos_.end() && it->second.pos <= joined.end) {
    const VerifiedRange& o = it->second;
    if (o.pos < joined.pos) {
      joined.pos = o.pos;
      joined.first = o.first;
    }
    if (o.end > joined.end) {
      joined.end = o.end;
      joined.next = o.next;
    }
    it = by_pos_.erase(it);
  }
  by_pos_.emplace(joined.pos, joined);
}

void VerifiedRanges::cut(int64_t pos, Offset next) {
  auto it = by_pos_.lower_bound(pos);
  by_pos_.erase(it, by_pos_.end());
  if (by_pos_.empty()) return;
  VerifiedRange& last = std::prev(by_pos_.end())->second;
  if (last.end > pos) {
    last.end = pos;
    last.next = next;
  }
}

int64_t VerifiedRanges::bytes() const {
  int64_t total = 0;
  for (const auto& [p, r] : by_pos_) total += r.end - r.pos;
  return total;
}

}  // namespace kreek::storage
