// DescriptorCache: an LRU list of closed segments holding a descriptor (see
// descriptor_cache.h).
#include "storage/descriptor_cache.h"

#include <algorithm>
#include <iterator>

#include "storage/segment.h"

namespace kreek::storage {

void DescriptorCache::touch(Segment* seg) {
  auto it = where_.find(seg);
  if (it != where_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
  } else {
    lru_.push_front(seg);
    where_.emplace(seg, lru_.begin());
  }
  trim(seg);
}

void DescriptorCache::add_active(size_t descriptors) {
  active_ += descriptors;
  trim(nullptr);
}

void DescriptorCache::remove_active(size_t descriptors) { active_ -= std::min(active_, descriptors); }

void DescriptorCache::trim(Segment* keep) {
  size_t room = closed_capacity();
  // Close from the cold end: first segments whose bytes are all synced, then,
  // only if that is not enough, ones still waiting for their background sync
  // (close_log syncs them first). Segments held by a flush plan are skipped.
  for (bool dirty_too : {false, true}) {
    auto victim = lru_.end();
    while (lru_.size() > room && victim != lru_.begin()) {
      --victim;
      Segment* s = *victim;
      if (s == keep || !s->can_close_log() || (s->is_dirty() && !dirty_too)) continue;
      if (!s->close_log()) continue;
      auto next = std::next(victim);
      where_.erase(s);
      lru_.erase(victim);
      victim = next;
    }
  }
}

void DescriptorCache::forget(Segment* seg) {
  auto it = where_.find(seg);
  if (it == where_.end()) return;
  lru_.erase(it->second);
  where_.erase(it);
}

}  // namespace kreek::storage
