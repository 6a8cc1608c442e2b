// Retention: closed segments go by age and by size, oldest first, never the
// active one; the log start moves and reads below it are out of range.
#include <doctest/doctest.h>

#include <filesystem>

#include "storage/partition_log.h"
#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

namespace {

std::unique_ptr<PartitionLog> filled_log(const std::string& dir, const LogConfig& c) {
  auto r = PartitionLog::open(dir, c, Offset(0), nullptr);
  REQUIRE(r);
  // Batch i: offsets 2i, 2i+1, ts 100000 + 1000 i.
  for (int i = 0; i < 100; ++i) REQUIRE(append_records(**r, records_of(2, 40), 2, 100000 + 1000 * i));
  (*r)->set_high_watermark((*r)->log_end());  // a single replica: all of it is replicated
  return std::move(*r);
}

LogConfig retention_config() {
  LogConfig c;
  c.segment_bytes = 2048;
  c.index_interval_bytes = 256;
  c.retention_ms = kNever;
  c.retention_bytes = kNever;
  return c;
}

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("retention by time deletes closed segments whose newest batch is too old") {
    TempDir t;
    LogConfig c = retention_config();
    c.retention_ms = 30000;
    auto log = filled_log(t.sub("p"), c);
    int before = log->segment_count();
    REQUIRE(before > 5);
    auto first_slice = log->read(Offset(0), 100, Offset(INT64_MAX));
    REQUIRE(first_slice);
    // Newest batch at ts 199000: keep what is newer than 199000 - 30000.
    auto n = log->enforce_retention(TimestampMs(199000));
    REQUIRE(n);
    CHECK(*n > 0);
    CHECK(log->segment_count() == before - *n);
    Offset start = log->log_start();
    CHECK(start > Offset(0));
    // The first remaining segment still holds a batch within retention...
    auto r = log->read(start, 1 << 20, Offset(INT64_MAX));
    REQUIRE(r);
    auto hs = headers_of(bytes_of(*r));
    CHECK(hs.front().base == start);
    CHECK(hs.front().ts.value() <= 169000 + 1000 * 50);
    // ...and reads below the start are out of range.
    auto below = log->read(start - 1, 100, Offset(INT64_MAX));
    REQUIRE_FALSE(below);
    CHECK(below.status().code() == Code::kOffsetOutOfRange);
    // An in-flight slice of a deleted segment still reads.
    CHECK(headers_of(bytes_of(*first_slice)).front().base == Offset(0));
    // A far future deletes every closed segment, and then the quiet
    // partition's active one too (rolled first): the log is empty at its end.
    REQUIRE(log->enforce_retention(TimestampMs(10'000'000)));
    CHECK(log->segment_count() == 1);
    CHECK(log->log_end() == Offset(200));
    CHECK(log->log_start() == Offset(200));
    CHECK(*log->offset_for_time(TimestampMs(0)) == log->log_start());
  }

  TEST_CASE("retention by bytes keeps the partition under retention.bytes") {
    TempDir t;
    LogConfig c = retention_config();
    c.retention_bytes = 5000;
    auto log = filled_log(t.sub("p"), c);
    int64_t total = log->size_bytes();
    REQUIRE(total > 10000);
    auto n = log->enforce_retention(TimestampMs(0));
    REQUIRE(n);
    CHECK(*n > 0);
    CHECK(log->size_bytes() >= 5000 - 2048);
    CHECK(log->size_bytes() < 5000 + 2048);
    auto again = log->enforce_retention(TimestampMs(0));
    REQUIRE(again);
    CHECK(*again == 0);
    // The files are gone from the directory too.
    int logs = 0;
    for (const auto& e : std::filesystem::directory_iterator(t.sub("p")))
      if (e.path().extension() == ".log") ++logs;
    CHECK(logs == log->segment_count());
    // And a restart agrees on the new log start.
    Offset start = log->log_start();
    REQUIRE(log->flush());
    Offset rp = log->recovery_point();
    log.reset();
    auto reopened = PartitionLog::open(t.sub("p"), c, rp, nullptr);
    REQUIRE(reopened);
    CHECK((*reopened)->log_start() == start);
  }

  TEST_CASE("retention does nothing without the delete cleanup policy") {
    TempDir t;
    LogConfig c = retention_config();
    c.retention_ms = 1;
    c.cleanup_delete = false;
    c.cleanup_compact = true;
    auto log = filled_log(t.sub("p"), c);
    int before = log->segment_count();
    CHECK(*log->enforce_retention(TimestampMs(10'000'000)) == 0);
    CHECK(log->segment_count() == before);
  }
}
