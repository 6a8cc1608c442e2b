// DescriptorCache: a bound on the .log descriptors that closed segments keep
// open, shared by every partition of a broker, so a data directory of 10,000
// segments does not need 10,000 descriptors. A closed segment opens its log
// on first use and is noted here; past the bound the least recently used one
// closes its descriptor again and reopens it on demand. The active segment is
// never counted (it is written all the time), nor closed while it has unsynced
// bytes. In-flight sends (FileSlice::file) and flushes (FlushPlan::files) hold
// their own reference to the file, so closing a segment's descriptor here
// never cuts them short. Owner thread only.
#pragma once

#include <cstddef>
#include <list>
#include <unordered_map>

namespace kreek::storage {

class Segment;

inline constexpr size_t kDefaultMaxOpenSegments = 1024;

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

  size_t open_count() const { return lru_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  std::list<Segment*> lru_;  // front: most recently used
  std::unordered_map<Segment*, std::list<Segment*>::iterator> where_;
};

}  // namespace kreek::storage
