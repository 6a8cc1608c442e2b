// Segment over in-memory files: appends, sparse index lookups, reads by extent,
// time lookups, and indexes that are stale or missing getting rebuilt.
#include "storage/segment.h"

#include <doctest/doctest.h>

#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

namespace {

struct MemSegment {
  std::shared_ptr<std::string> log = std::make_shared<std::string>();
  std::shared_ptr<std::string> index = std::make_shared<std::string>();
  std::shared_ptr<std::string> time = std::make_shared<std::string>();
  std::shared_ptr<Segment> seg;

  explicit MemSegment(int64_t base = 1000, int64_t interval = 256) {
    seg = Segment::over_files(Offset(base), Offset(base), make_mem_file(log), make_mem_file(index),
                              make_mem_file(time), interval);
  }
  // A second Segment over the same bytes, as a restart would open it.
  std::shared_ptr<Segment> reopen_closed(int64_t interval = 256) const {
    return Segment::over_files(seg->base(), seg->end(), make_mem_file(log), make_mem_file(index),
                               make_mem_file(time), interval);
  }
  void append(int n, int64_t ts, size_t value_bytes = 20) {
    std::string records = records_of(n, value_bytes);
    BatchHeader h = stamped_header(records, seg->end().value(), n, 1, ts);
    REQUIRE(seg->append(h, encode_batch_prefix(h), records));
  }
};

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("a segment appends batch lines and indexes every interval bytes") {
    MemSegment m;
    for (int i = 0; i < 50; ++i) m.append(3, 1000 + i);
    CHECK(m.seg->end() == Offset(1150));
    CHECK(m.seg->size() == static_cast<int64_t>(m.log->size()));
    CHECK(headers_of(*m.log).size() == 50);
    // Each line is ~170 bytes and the interval 256: an entry every other batch or so.
    size_t entries = m.index->size() / OffsetEntry::kBytes;
    CHECK(entries >= 15);
    CHECK(entries <= 40);
    CHECK(m.time->size() % TimeEntry::kBytes == 0);
    CHECK(m.time->size() / TimeEntry::kBytes == entries);  // ts grows every batch
  }

  TEST_CASE("locate finds the batch containing every offset") {
    MemSegment m;
    for (int i = 0; i < 40; ++i) m.append(3, 1000 + i);
    for (int64_t o = 1000; o < 1120; ++o) {
      auto b = m.seg->locate(Offset(o));
      REQUIRE(b);
      CHECK(b->header.base <= Offset(o));
      CHECK(b->header.next() > Offset(o));
      CHECK(b->header.base == Offset(1000 + (o - 1000) / 3 * 3));
    }
    CHECK_FALSE(m.seg->locate(Offset(1120)));
    CHECK_FALSE(m.seg->locate(Offset(999)));
  }

  TEST_CASE("an extent stops at max bytes on a batch boundary, but takes one batch") {
    MemSegment m;
    for (int i = 0; i < 40; ++i) m.append(3, 1000 + i);
    auto first = m.seg->locate(Offset(1030));
    REQUIRE(first);
    auto all = m.seg->extent(*first, 1 << 20, Offset(INT64_MAX), true);
    REQUIRE(all);
    CHECK(all->reached_end);
    CHECK(all->end_pos == m.seg->size());
    CHECK(all->next == Offset(1120));

    auto some = m.seg->extent(*first, 1000, Offset(INT64_MAX), true);
    REQUIRE(some);
    CHECK_FALSE(some->reached_end);
    CHECK(some->end_pos - first->pos <= 1000);
    CHECK(some->end_pos - first->pos > 1000 - first->len);
    auto hs = headers_of(m.log->substr(first->pos, some->end_pos - first->pos));
    CHECK(hs.front().base == Offset(1030));
    CHECK(hs.back().next() == some->next);

    auto one = m.seg->extent(*first, 1, Offset(INT64_MAX), true);
    REQUIRE(one);
    CHECK(one->end_pos == first->end());
    auto none = m.seg->extent(*first, 1, Offset(INT64_MAX), false);
    REQUIRE(none);
    CHECK(none->end_pos == first->pos);

    auto limited = m.seg->extent(*first, 1 << 20, Offset(1045), true);
    REQUIRE(limited);
    CHECK(limited->next == Offset(1045));  // the batch 1045..1047 would cross the limit
  }

  TEST_CASE("offset_for_time finds the first batch at or after a timestamp") {
    MemSegment m;
    for (int i = 0; i < 60; ++i) m.append(2, 5000 + 10 * i);  // batch i: offsets 1000+2i, ts 5000+10i
    REQUIRE(m.seg->seal());
    for (int64_t ts = 4990; ts <= 5600; ts += 7) {
      auto r = m.seg->offset_for_time(TimestampMs(ts));
      REQUIRE(r);
      if (ts > 5590) {
        CHECK_FALSE(r->has_value());
      } else {
        int64_t batch = ts <= 5000 ? 0 : (ts - 5000 + 9) / 10;
        REQUIRE(r->has_value());
        CHECK(**r == Offset(1000 + 2 * batch));
      }
    }
    CHECK(*m.seg->max_timestamp() == TimestampMs(5590));
  }

  TEST_CASE("a closed segment validates its indexes lazily and agrees with the active one") {
    MemSegment m;
    for (int i = 0; i < 30; ++i) m.append(3, 1000 + i);
    REQUIRE(m.seg->seal());
    std::string index_before = *m.index, time_before = *m.time;
    auto closed = m.reopen_closed();
    auto b = closed->locate(Offset(1050));
    REQUIRE(b);
    CHECK(b->header.base == Offset(1050 - 50 % 3));
    CHECK(*closed->max_timestamp() == TimestampMs(1029));
    CHECK(*closed->last_epoch() == LeaderEpoch(1));
    CHECK(*m.index == index_before);  // not rewritten: it was right
    CHECK(*m.time == time_before);
  }

  TEST_CASE("a stale or missing index is rebuilt from the log") {
    MemSegment m;
    for (int i = 0; i < 30; ++i) m.append(3, 1000 + i);
    REQUIRE(m.seg->seal());
    std::string good_index = *m.index, good_time = *m.time;
    REQUIRE(good_index.size() >= 16);

    SUBCASE("missing") {
      m.index->clear();
      m.time->clear();
    }
    SUBCASE("an entry pointing past the log") {
      (*m.index)[good_index.size() - 1] = '\x7f';
    }
    SUBCASE("an entry off a batch boundary") {
      (*m.index)[good_index.size() - 4] += 1;
    }
    SUBCASE("a torn trailing entry") {
      m.index->pop_back();
    }
    SUBCASE("entries out of order") {
      std::swap_ranges(m.index->begin(), m.index->begin() + 8, m.index->begin() + 8);
    }
    SUBCASE("time index without the segment's newest timestamp") {
      m.time->resize(m.time->size() - TimeEntry::kBytes);
    }
    auto closed = m.reopen_closed();
    for (int64_t o = 1000; o < 1090; o += 7) {
      auto b = closed->locate(Offset(o));
      REQUIRE(b);
      CHECK(b->header.base == Offset(o - (o - 1000) % 3));
    }
    CHECK(*m.index == good_index);
    CHECK(*m.time == good_time);
  }

  TEST_CASE("truncating a segment drops the batch containing the offset and what follows") {
    MemSegment m;
    for (int i = 0; i < 30; ++i) m.append(3, 1000 + i);
    REQUIRE(m.seg->truncate_to(Offset(1031)));  // batch 1030..1032 goes
    CHECK(m.seg->end() == Offset(1030));
    CHECK(headers_of(*m.log).size() == 10);
    CHECK(headers_of(*m.log).back().next() == Offset(1030));
    CHECK(*m.seg->max_timestamp() == TimestampMs(1009));
    // Index entries beyond the cut are gone: a reopened copy agrees.
    m.append(1, 2000);
    auto closed = m.reopen_closed();
    REQUIRE(m.seg->seal());
    auto b = closed->locate(Offset(1030));
    REQUIRE(b);
    CHECK(b->header.n == 1);
    REQUIRE(m.seg->truncate_to(Offset(1000)));
    CHECK(m.seg->is_empty());
    CHECK(m.log->empty());
    CHECK(m.index->empty());
  }
}
