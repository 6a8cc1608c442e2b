// PartitionLog on a real directory: append, reads across segments, limits,
// time lookups, flush plans, truncation and rolling.
#include "storage/partition_log.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <thread>

#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

namespace {

std::unique_ptr<PartitionLog> open_log(const std::string& dir, const LogConfig& c, int64_t rp = 0,
                                       std::vector<std::string>* reports = nullptr) {
  auto r = PartitionLog::open(dir, c, Offset(rp), [reports](std::string_view m) {
    if (reports) reports->emplace_back(m);
  });
  REQUIRE(r);
  return std::move(*r);
}

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("an empty directory opens as an empty log at offset 0") {
    TempDir t;
    auto log = open_log(t.sub("p"), LogConfig());
    CHECK(log->log_start() == Offset(0));
    CHECK(log->log_end() == Offset(0));
    CHECK(log->segment_count() == 1);
    CHECK(log->last_epoch() == LeaderEpoch(-1));
    auto r = log->read(Offset(0), 1000, Offset(INT64_MAX));
    REQUIRE(r);
    CHECK(r->slices.empty());
    CHECK(r->next == Offset(0));
    CHECK(*log->offset_for_time(TimestampMs(0)) == Offset(0));
    CHECK(std::filesystem::exists(t.sub("p/00000000000000000000.log")));
  }

  TEST_CASE("appends stamp offsets, epoch and a non-decreasing timestamp") {
    TempDir t;
    auto log = open_log(t.sub("p"), LogConfig());
    std::string rec = records_of(3);
    auto a = log->append(rec, 3, crc_of(rec), LeaderEpoch(4), TimestampMs(5000));
    REQUIRE(a);
    CHECK(a->base == Offset(0));
    CHECK(a->last == Offset(2));
    CHECK(a->ts == TimestampMs(5000));
    auto b = log->append(rec, 3, crc_of(rec), LeaderEpoch(4), TimestampMs(4000));  // clock stepped back
    REQUIRE(b);
    CHECK(b->base == Offset(3));
    CHECK(b->ts == TimestampMs(5000));
    CHECK(log->log_end() == Offset(6));
    CHECK(log->last_epoch() == LeaderEpoch(4));
    CHECK(log->unflushed_messages() == 6);
    auto r = log->read(Offset(0), 1 << 20, Offset(INT64_MAX));
    REQUIRE(r);
    std::string bytes = bytes_of(*r);
    REQUIRE(headers_of(bytes).size() == 2);
    auto first = parse_batch(bytes);
    REQUIRE(first);
    CHECK(first->records == rec);
    CHECK(first->header.crc == batch_crc(crc_of(rec), encode_batch_head(first->header)));
    CHECK(r->next == Offset(6));
    CHECK(r->slices.size() == 1);
    CHECK(r->slices[0].fd >= 0);
  }

  TEST_CASE("records larger than max.message.bytes are refused") {
    TempDir t;
    LogConfig c;
    c.max_message_bytes = 100;
    auto log = open_log(t.sub("p"), c);
    std::string rec = records_of(10, 20);
    auto a = append_records(*log, rec, 10);
    REQUIRE_FALSE(a);
    CHECK(a.status().code() == Code::kMessageTooLarge);
    CHECK(log->log_end() == Offset(0));
    CHECK_FALSE(log->append("[\n]", 1, 0, LeaderEpoch(0), TimestampMs(0)));
  }

  TEST_CASE("reads outside [log_start, log_end] are out of range and name the range") {
    TempDir t;
    auto log = open_log(t.sub("p"), LogConfig());
    for (int i = 0; i < 14; ++i) REQUIRE(append_records(*log, records_of(3), 3));
    auto r = log->read(Offset(99), 100, Offset(INT64_MAX));
    REQUIRE_FALSE(r);
    CHECK(r.status().code() == Code::kOffsetOutOfRange);
    CHECK(r.status().message() == "offset 99 is out of range [0, 42)");
    auto at_end = log->read(Offset(42), 100, Offset(INT64_MAX));
    REQUIRE(at_end);
    CHECK(at_end->bytes == 0);
    CHECK(at_end->next == Offset(42));
  }

  TEST_CASE("many small segments read back whole across segment boundaries") {
    TempDir t;
    auto log = open_log(t.sub("p"), small_segments());
    std::vector<std::string> batches;
    int64_t now = 1000;
    for (int i = 0; i < 200; ++i) {
      std::string rec = records_of(1 + i % 4, 10 + i % 30, "b" + std::to_string(i) + "-");
      auto a = append_records(*log, rec, 1 + i % 4, now++);
      REQUIRE(a);
      batches.push_back(rec);
    }
    CHECK(log->segment_count() > 10);
    Offset end = log->log_end();
    // Every file respects segment.bytes.
    for (const auto& e : std::filesystem::directory_iterator(t.sub("p")))
      if (e.path().extension() == ".log") CHECK(std::filesystem::file_size(e.path()) <= 2048);

    SUBCASE("reading everything in small steps visits every batch once") {
      Offset at(0);
      size_t seen = 0;
      while (at < end) {
        auto r = log->read(at, 700, Offset(INT64_MAX));
        REQUIRE(r);
        REQUIRE(r->bytes > 0);
        auto hs = headers_of(bytes_of(*r));
        REQUIRE(!hs.empty());
        CHECK(hs.front().base <= at);
        CHECK(hs.front().next() > at);
        CHECK(r->bytes <= 700 + 200);  // at most one oversized first batch
        for (size_t i = 1; i < hs.size(); ++i) CHECK(hs[i].base == hs[i - 1].next());
        CHECK(hs.back().next() == r->next);
        seen += hs.size();
        at = r->next;
      }
      CHECK(seen == batches.size());
    }
    SUBCASE("one read can span several segments") {
      auto r = log->read(Offset(0), 1 << 20, Offset(INT64_MAX));
      REQUIRE(r);
      CHECK(r->slices.size() == static_cast<size_t>(log->segment_count()));
      auto hs = headers_of(bytes_of(*r));
      CHECK(hs.size() == batches.size());
      CHECK(r->next == end);
    }
    SUBCASE("every offset is found in the batch that holds it") {
      for (int64_t o = 0; o < end.value(); o += 3) {
        auto r = log->read(Offset(o), 1, Offset(INT64_MAX));
        REQUIRE(r);
        auto hs = headers_of(bytes_of(*r));
        REQUIRE(hs.size() == 1);
        CHECK(hs[0].base <= Offset(o));
        CHECK(hs[0].next() > Offset(o));
      }
    }
    SUBCASE("the limit (high watermark) is never crossed") {
      auto r = log->read(Offset(0), 1 << 20, Offset(100));
      REQUIRE(r);
      auto hs = headers_of(bytes_of(*r));
      CHECK(hs.back().next() <= Offset(100));
      CHECK(hs.back().next() > Offset(96));
      auto none = log->read(Offset(100), 1 << 20, Offset(100));
      REQUIRE(none);
      CHECK(none->bytes == 0);
    }
    SUBCASE("a reopened log reads the same bytes") {
      auto before = bytes_of(*log->read(Offset(0), 1 << 20, Offset(INT64_MAX)));
      REQUIRE(log->flush());
      Offset rp = log->recovery_point();
      CHECK(rp == end);
      log.reset();
      auto again = open_log(t.sub("p"), small_segments(), rp.value());
      CHECK(again->log_end() == end);
      CHECK(bytes_of(*again->read(Offset(0), 1 << 20, Offset(INT64_MAX))) == before);
      // Appends continue where the log ended, with a timestamp no lower.
      auto a = append_records(*again, records_of(1), 1, 0);
      REQUIRE(a);
      CHECK(a->base == end);
      CHECK(a->ts == TimestampMs(1199));
    }
  }

  TEST_CASE("offset_for_time uses the time indexes across segments") {
    TempDir t;
    auto log = open_log(t.sub("p"), small_segments());
    // Batch i holds offsets 2i, 2i+1 and has ts 10000 + 100 i.
    for (int i = 0; i < 150; ++i) REQUIRE(append_records(*log, records_of(2, 30), 2, 10000 + 100 * i));
    REQUIRE(log->segment_count() > 5);
    CHECK(*log->offset_for_time(TimestampMs(0)) == Offset(0));
    CHECK(*log->offset_for_time(TimestampMs(10000)) == Offset(0));
    CHECK(*log->offset_for_time(TimestampMs(10001)) == Offset(2));
    CHECK(*log->offset_for_time(TimestampMs(10000 + 100 * 77)) == Offset(154));
    CHECK(*log->offset_for_time(TimestampMs(10000 + 100 * 77 - 50)) == Offset(154));
    CHECK(*log->offset_for_time(TimestampMs(10000 + 100 * 149)) == Offset(298));
    CHECK(*log->offset_for_time(TimestampMs(10000 + 100 * 149 + 1)) == Offset(300));
    // The same answers after a restart, with indexes loaded lazily.
    REQUIRE(log->flush());
    log.reset();
    auto again = open_log(t.sub("p"), small_segments(), 300);
    for (int i = 0; i < 150; i += 13)
      CHECK(*again->offset_for_time(TimestampMs(10000 + 100 * i - 1)) == Offset(2 * i));
  }

  TEST_CASE("a flush plan advances the recovery point and may run on another thread") {
    TempDir t;
    auto log = open_log(t.sub("p"), small_segments());
    for (int i = 0; i < 20; ++i) REQUIRE(append_records(*log, records_of(5), 5));
    CHECK(log->recovery_point() == Offset(0));
    CHECK(log->unflushed_messages() == 100);
    CHECK(log->first_unflushed_ms() > 0);
    FlushPlan plan = log->begin_flush();
    CHECK(plan.up_to == Offset(100));
    CHECK(plan.segments.size() == static_cast<size_t>(log->segment_count()));
    CHECK(log->unflushed_messages() == 0);
    Status st;
    std::thread worker([&] { st = plan.run(); });
    // The owner keeps appending meanwhile.
    for (int i = 0; i < 20; ++i) REQUIRE(append_records(*log, records_of(5), 5));
    worker.join();
    REQUIRE(st);
    log->end_flush(plan);
    CHECK(log->recovery_point() == Offset(100));
    CHECK(log->unflushed_messages() == 100);
    REQUIRE(log->flush());
    CHECK(log->recovery_point() == Offset(200));
    CHECK(log->unflushed_messages() == 0);
    CHECK(log->begin_flush().segments.empty());

    SUBCASE("a plan that did not run leaves the recovery point alone") {
      REQUIRE(append_records(*log, records_of(1), 1));
      FlushPlan p = log->begin_flush();
      log->end_flush(p);  // run() never called
      CHECK(log->recovery_point() == Offset(200));
      CHECK(log->unflushed_messages() == 1);
      CHECK(log->begin_flush().segments.size() == 1);
    }
  }

  TEST_CASE("truncate_to removes the batch holding the offset and everything after") {
    TempDir t;
    auto log = open_log(t.sub("p"), small_segments());
    for (int i = 0; i < 100; ++i)
      REQUIRE(log->append(records_of(3), 3, crc_of(records_of(3)), LeaderEpoch(i / 50), TimestampMs(i)));
    int segs = log->segment_count();
    REQUIRE(segs > 3);
    REQUIRE(log->flush());
    REQUIRE(log->truncate_to(Offset(100)));  // inside batch 99..101
    CHECK(log->log_end() == Offset(99));
    CHECK(log->segment_count() < segs);
    CHECK(log->last_epoch() == LeaderEpoch(0));
    CHECK(log->recovery_point() == Offset(99));
    auto a = append_records(*log, records_of(1), 1, 0);
    REQUIRE(a);
    CHECK(a->base == Offset(99));
    CHECK(a->ts == TimestampMs(32));  // the last surviving batch's ts
    auto hs = headers_of(bytes_of(*log->read(Offset(0), 1 << 20, Offset(INT64_MAX))));
    CHECK(hs.size() == 34);
    REQUIRE(log->flush());
    log.reset();
    auto again = open_log(t.sub("p"), small_segments(), 100);
    CHECK(again->log_end() == Offset(100));
    SUBCASE("below the log start the log restarts empty there") {
      REQUIRE(again->truncate_to(Offset(0)));
      CHECK(again->log_start() == Offset(0));
      CHECK(again->log_end() == Offset(0));
      CHECK(again->segment_count() == 1);
    }
  }

  TEST_CASE("segments roll when their first batch is older than segment.ms") {
    TempDir t;
    LogConfig c;
    c.segment_ms = 1000;
    auto log = open_log(t.sub("p"), c);
    REQUIRE(append_records(*log, records_of(1), 1, 10000));
    REQUIRE(append_records(*log, records_of(1), 1, 10900));
    CHECK(log->segment_count() == 1);
    REQUIRE(append_records(*log, records_of(1), 1, 11001));
    CHECK(log->segment_count() == 2);
    REQUIRE(log->roll_if_due(TimestampMs(11500)));
    CHECK(log->segment_count() == 2);
    REQUIRE(log->roll_if_due(TimestampMs(12002)));
    CHECK(log->segment_count() == 3);
    REQUIRE(log->roll_if_due(TimestampMs(99999)));  // the new segment is empty
    CHECK(log->segment_count() == 3);
  }

  TEST_CASE("remove deletes the partition directory") {
    TempDir t;
    auto log = open_log(t.sub("p"), LogConfig());
    REQUIRE(append_records(*log, records_of(1), 1));
    auto r = log->read(Offset(0), 100, Offset(INT64_MAX));
    REQUIRE(r);
    REQUIRE(log->remove());
    CHECK_FALSE(std::filesystem::exists(t.sub("p")));
    CHECK(headers_of(bytes_of(*r)).size() == 1);  // the in-flight slice still reads
  }
}
