// DescriptorCache: a bound on the descriptors a broker's segments hold open,
// shared by every partition, so a data directory of 10,000 segments does not
// need 10,000 descriptors. Each partition's active segment holds three (its
// log and two indexes) for as long as the partition is open: they are counted
// (add_active) but never closed. Closed segments get what is left: one opens
// its log on first use and is noted here; past the bound the least recently
// used one closes its descriptor again and reopens it on demand (the segment
// in use keeps its own even when active segments alone fill the bound). None
// is closed while it has unsynced bytes. In-flight sends (FileSlice::file)
// and flushes (FlushPlan::files) hold their own reference to the file, so
// closing a segment's descriptor here never cuts them short. Owner thread only.
#pragma once

#include <cstddef>
#include <list>
#include <unordered_map>

namespace kreek::storage {

class Segment;

inline constexpr size_t kDefaultMaxOpenSegments = 1024;
// What an open partition's active segment holds: .log, .index, .timeindex.
inline constexpr size_t kActiveSegmentDescriptors = 3;

class DescriptorCache {
 public:
  explicit DescriptorCache(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}
  DescriptorCache(const DescriptorCache&) = delete;
  DescriptorCache& operator=(const DescriptorCache&) = delete;

  // `seg` holds its log open and was just used: it becomes the most recently
  // used, and the least recently used beyond the bound are closed.
  void touch(Segment* seg);
  // `seg` closed its log, became the active segment again, or is going away.
  void forget(Segment* seg);
  // A partition opened (add) or closed (remove) its active segment's
  // descriptors; adding may close closed segments' to make room.
  void add_active(size_t descriptors);
  void remove_active(size_t descriptors);

  size_t open_count() const { return lru_.size(); }  // closed segments holding their log
  size_t active_descriptors() const { return active_; }
  size_t capacity() const { return capacity_; }
  // What closed segments may hold: the bound less the active segments' share.
  size_t closed_capacity() const { return capacity_ > active_ ? capacity_ - active_ : 0; }

 private:
  // Closes least recently used closed segments, never `keep`, until they fit.
  void trim(Segment* keep);

  size_t capacity_;
  size_t active_ = 0;
  std::list<Segment*> lru_;  // front: most recently used
  std::unordered_map<Segment*, std::list<Segment*>::iterator> where_;
};

}  // namespace kreek::storage
