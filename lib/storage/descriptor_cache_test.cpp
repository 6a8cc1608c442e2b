// The descriptor bound: closed segments beyond it close their .log
// descriptor and reopen it on demand, reads of every segment still work,
// in-flight slices and flush plans keep the files they hold, and every
// partition's active segment counts three descriptors against the bound.
#include "storage/descriptor_cache.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>

#include "storage/partition_log.h"
#include "storage/segment.h"
#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

namespace {

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

struct BoundedLog {
  TempDir t;
  std::shared_ptr<DescriptorCache> cache;
  std::unique_ptr<PartitionLog> log;
  std::vector<std::string> batches;

  // `bound` closed segments: the cache also holds the active segment's share.
  explicit BoundedLog(size_t bound, int segments = 30)
      : cache(std::make_shared<DescriptorCache>(bound + kActiveSegmentDescriptors)) {
    log = open(0);
    for (int i = 0; log->segment_count() < segments; ++i) {
      std::string rec = records_of(3, 40, "s" + std::to_string(i) + "-");
      REQUIRE(append_records(*log, rec, 3));
      batches.push_back(rec);
    }
  }
  std::unique_ptr<PartitionLog> open(int64_t rp) {
    auto r = PartitionLog::open(t.sub("p"), small_segments(1024), Offset(rp), nullptr, cache);
    REQUIRE(r);
    return std::move(*r);
  }
  void sync_closed() {
    FlushPlan plan = log->begin_flush_closed();
    REQUIRE(plan.run());
    log->end_flush(plan);
  }
  // Every batch, read one at a time from every segment.
  void read_all(bool within_bound = true) {
    Offset at(0);
    size_t seen = 0;
    while (at < log->log_end()) {
      auto r = log->read(at, 1, Offset(INT64_MAX));
      REQUIRE(r);
      auto hs = headers_of(bytes_of(*r));
      REQUIRE(hs.size() == 1);
      CHECK(hs[0].base == at);
      at = r->next;
      ++seen;
      if (within_bound) CHECK(cache->open_count() + cache->active_descriptors() <= cache->capacity());
    }
    CHECK(seen == batches.size());
  }
};

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("closed segments beyond the descriptor bound close their descriptors and reopen on demand") {
    size_t before = open_fds();
    BoundedLog b(4);
    b.sync_closed();
    b.read_all();
    CHECK(b.cache->open_count() == 4);
    // 4 closed logs + the active segment's three files (+1 for the directory listing).
    CHECK(open_fds() <= before + 4 + 3 + 1);
    // Backwards too, and again: each segment reopens as often as needed.
    for (int64_t o = b.log->log_end().value() - 1; o >= 0; o -= 7) {
      auto r = b.log->read(Offset(o), 1, Offset(INT64_MAX));
      REQUIRE(r);
      CHECK(headers_of(bytes_of(*r))[0].next() > Offset(o));
    }
    CHECK(b.cache->open_count() <= 4);
  }

  TEST_CASE("a restarted log holds no more closed descriptors than the bound") {
    BoundedLog b(3);
    REQUIRE(b.log->flush());
    Offset end = b.log->log_end();
    b.log.reset();
    CHECK(b.cache->open_count() == 0);  // destroyed segments leave the cache
    // Recovering from 0 opens every segment; the bound closes all but three.
    b.log = b.open(0);
    CHECK(b.log->log_end() == end);
    b.sync_closed();
    b.read_all();
    CHECK(b.cache->open_count() <= 3);
  }

  TEST_CASE("an in-flight slice keeps its descriptor after the bound closes the segment's") {
    BoundedLog b(2);
    b.sync_closed();
    auto first = b.log->read(Offset(0), 1, Offset(INT64_MAX));
    REQUIRE(first);
    FileSlice slice = first->slices[0];
    std::string expected = bytes_of(*first);
    b.read_all();  // touches every other segment: the first one's descriptor is closed
    CHECK(!slice.owner->has_open_log());
    std::string got(static_cast<size_t>(slice.len), '\0');
    REQUIRE(::pread(slice.fd, got.data(), got.size(), slice.pos) == slice.len);
    CHECK(got == expected);
  }

  TEST_CASE("a segment in a flush plan keeps its descriptor, and one waiting for its sync is synced before closing") {
    BoundedLog b(2);
    FlushPlan plan = b.log->begin_flush_closed();
    REQUIRE(plan.segments.size() > 4);
    b.read_all(false);  // more segments than the bound are touched, all held by the plan
    for (const auto& s : plan.segments) CHECK(s->has_open_log());
    REQUIRE(plan.run());
    b.log->end_flush(plan);
    b.read_all();
    CHECK(b.cache->open_count() <= 2);

    SUBCASE("rolled segments not yet in a plan are synced and closed when the bound needs their descriptors") {
      size_t had = b.log->segment_count();
      while (b.log->segment_count() < static_cast<int>(had) + 6) {
        REQUIRE(append_records(*b.log, records_of(3, 40), 3));
        b.batches.push_back(records_of(3, 40));
      }
      b.read_all();
      CHECK(b.cache->open_count() <= 2);
      // Still dirty: the next plan covers their directory entries and the recovery point.
      FlushPlan next = b.log->begin_flush_closed();
      CHECK(next.segments.size() == 6);
      CHECK(next.files.size() < next.segments.size());  // closed ones were synced already
      REQUIRE(next.run());
      b.log->end_flush(next);
      CHECK(b.log->recovery_point() == next.up_to);
    }
  }

  TEST_CASE("active segments count against the bound and closed segments get what is left") {
    BoundedLog b(4);
    b.sync_closed();
    CHECK(b.cache->active_descriptors() == kActiveSegmentDescriptors);
    b.read_all();
    CHECK(b.cache->open_count() == 4);
    // A second partition's active segment takes three of the closed segments' descriptors.
    TempDir other;
    auto second = PartitionLog::open(other.sub("q"), small_segments(1024), Offset(0), nullptr, b.cache);
    REQUIRE(second);
    CHECK(b.cache->active_descriptors() == 2 * kActiveSegmentDescriptors);
    CHECK(b.cache->open_count() == 1);
    // Active segments alone may fill the bound: a closed segment in use still opens.
    auto third = PartitionLog::open(other.sub("r"), small_segments(1024), Offset(0), nullptr, b.cache);
    REQUIRE(third);
    CHECK(b.cache->closed_capacity() == 0);
    b.read_all(false);
    CHECK(b.cache->open_count() == 1);
    second->reset();
    third->reset();
    CHECK(b.cache->active_descriptors() == kActiveSegmentDescriptors);
    b.read_all();
    CHECK(b.cache->open_count() == 4);
  }
}
