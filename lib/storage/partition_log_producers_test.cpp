// PartitionLog and idempotent producers: v2 batches on append, the producer
// state they build, its snapshot at flush, and its rebuild at open (from the
// snapshot and the batches after it, or from the whole log) and after truncation.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "base/atomic_file.h"
#include "storage/partition_log.h"
#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

namespace {

std::unique_ptr<PartitionLog> open_log(const std::string& dir, const LogConfig& c = small_segments(),
                                       std::vector<std::string>* reports = nullptr) {
  auto r = PartitionLog::open(dir, c, Offset(0), [reports](std::string_view m) {
    if (reports) reports->emplace_back(m);
  });
  REQUIRE(r);
  return std::move(*r);
}

Result<AppendResult> append_as(PartitionLog& log, int64_t pid, int32_t seq, int n = 2, int16_t pepoch = 0) {
  std::string records = records_of(n);
  return log.append(records, n, crc_of(records), LeaderEpoch(0), TimestampMs(1'700'000'000'000),
                    ProducerFields{pid, pepoch, seq});
}

bool is_duplicate(const PartitionLog& log, int64_t pid, int32_t seq, int n = 2) {
  auto r = log.producers().check(pid, 0, seq, n);
  REQUIRE(r);
  return r->duplicate;
}

std::string all_bytes(const PartitionLog& log) {
  auto r = log.read(log.log_start(), INT64_MAX, Offset(INT64_MAX));
  REQUIRE(r);
  return bytes_of(*r);
}

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("an append with producer fields writes a v2 batch and updates the producer state") {
    TempDir t;
    auto log = open_log(t.sub("p"));
    REQUIRE(append_records(*log, records_of(1), 1));  // a plain batch: v1
    auto a = append_as(*log, 7, 0);
    REQUIRE(a);
    CHECK(a->base == Offset(1));
    std::string bytes = all_bytes(*log);
    CHECK(bytes.rfind("{\"v\":1,", 0) == 0);
    CHECK(bytes.find("{\"v\":2,\"base\":1,\"n\":2,") != std::string::npos);
    auto h = headers_of(bytes);
    REQUIRE(h.size() == 2);
    CHECK(h[1].pid == 7);
    CHECK(h[1].seq == 0);
    CHECK(is_duplicate(*log, 7, 0));
    auto next = log->producers().check(7, 0, 2, 1);
    REQUIRE(next);
    CHECK_FALSE(next->duplicate);
  }

  TEST_CASE("the producer state is rebuilt from the log when there is no snapshot") {
    TempDir t;
    {
      auto log = open_log(t.sub("p"));
      for (int i = 0; i < 40; ++i) REQUIRE(append_as(*log, 1 + i % 2, (i / 2) * 2));  // rolls segments
      CHECK(log->segment_count() > 1);
    }  // no flush: no snapshot
    CHECK_FALSE(std::filesystem::exists(t.sub("p") + "/producer-snapshot"));
    auto log = open_log(t.sub("p"));
    CHECK(log->producers().size() == 2);
    CHECK(is_duplicate(*log, 1, 38));
    CHECK(is_duplicate(*log, 2, 30));
    CHECK(log->producers().find(1)->batches.back().base == Offset(76));
  }

  TEST_CASE("flush writes a producer snapshot and open scans only the batches after it") {
    TempDir t;
    std::string snap = t.sub("p") + "/producer-snapshot";
    ProducerState before;
    {
      auto log = open_log(t.sub("p"));
      for (int i = 0; i < 10; ++i) REQUIRE(append_as(*log, 5, 2 * i));
      REQUIRE(log->flush());
      REQUIRE(std::filesystem::exists(snap));
      before = log->producers();
      REQUIRE(append_as(*log, 6, 0));  // after the snapshot: found by the scan
    }
    {
      auto log = open_log(t.sub("p"));
      CHECK(is_duplicate(*log, 5, 18));
      CHECK(is_duplicate(*log, 6, 0));
      before.update(headers_of(all_bytes(*log)).back());
      CHECK(log->producers() == before);
    }
    SUBCASE("the snapshot is trusted for the batches below its offset") {
      // A snapshot that claims another producer at offset 20 is believed;
      // only the batch at 20 is read from the log.
      ProducerState claimed;
      BatchHeader h;
      h.base = Offset(0);
      h.n = 1;
      h.pid = 99;
      claimed.update(h);
      REQUIRE(write_file_atomically(snap, claimed.encode_snapshot(Offset(20))));
      auto log = open_log(t.sub("p"));
      CHECK(log->producers().find(99) != nullptr);
      CHECK(log->producers().find(5) == nullptr);
      CHECK(log->producers().find(6) != nullptr);
    }
    SUBCASE("a damaged snapshot is reported and the log scanned instead") {
      std::ofstream(snap, std::ios::trunc) << "{\"version\":1,";
      std::vector<std::string> reports;
      auto log = open_log(t.sub("p"), small_segments(), &reports);
      CHECK(is_duplicate(*log, 5, 18));
      CHECK(is_duplicate(*log, 6, 0));
      REQUIRE(reports.size() == 1);
      CHECK(reports[0].find("producer snapshot") != std::string::npos);
    }
    SUBCASE("a snapshot past the log end is removed and the log scanned instead") {
      ProducerState claimed;
      REQUIRE(write_file_atomically(snap, claimed.encode_snapshot(Offset(1000))));
      auto log = open_log(t.sub("p"));
      CHECK_FALSE(std::filesystem::exists(snap));
      CHECK(is_duplicate(*log, 5, 18));
    }
  }

  TEST_CASE("truncation forgets the batches it removed and the snapshot past the cut") {
    TempDir t;
    auto log = open_log(t.sub("p"));
    for (int i = 0; i < 6; ++i) REQUIRE(append_as(*log, 3, 2 * i));
    REQUIRE(log->flush());
    REQUIRE(log->truncate_to(Offset(8)));  // batches at 8 and 10 go
    CHECK_FALSE(std::filesystem::exists(t.sub("p") + "/producer-snapshot"));
    CHECK(is_duplicate(*log, 3, 6));
    CHECK_FALSE(is_duplicate(*log, 3, 8));  // gone: it may be written again
    auto again = append_as(*log, 3, 8);
    REQUIRE(again);
    CHECK(again->base == Offset(8));
    CHECK(is_duplicate(*log, 3, 8));
  }

  TEST_CASE("logs without idempotent batches stay v1 and get an empty snapshot") {
    TempDir t;
    {
      auto log = open_log(t.sub("p"));
      for (int i = 0; i < 5; ++i) REQUIRE(append_records(*log, records_of(2), 2));
      REQUIRE(log->flush());
    }
    auto text = read_small_file(t.sub("p") + "/producer-snapshot");
    REQUIRE(text);
    CHECK(*text == "{\"version\":1,\"offset\":10,\"producers\":[]}\n");
    auto log = open_log(t.sub("p"));
    CHECK(log->producers().empty());
    CHECK(log->log_end() == Offset(10));
    for (const BatchHeader& h : headers_of(all_bytes(*log))) CHECK(h.version() == 1);
  }

  TEST_CASE("observe_batch takes in batches written by another path") {
    TempDir t;
    auto log = open_log(t.sub("p"));
    BatchHeader h;
    h.base = Offset(40);
    h.n = 3;
    h.pid = 11;
    h.seq = 9;
    log->observe_batch(h);
    auto dup = log->producers().check(11, 0, 9, 3);
    REQUIRE(dup);
    CHECK(dup->duplicate);
    CHECK(dup->base == Offset(40));
    CHECK(dup->last == Offset(42));
  }

  TEST_CASE("removing the partition removes its producer snapshot") {
    TempDir t;
    auto log = open_log(t.sub("p"));
    REQUIRE(append_as(*log, 1, 0));
    REQUIRE(log->flush());
    REQUIRE(log->remove());
    CHECK_FALSE(std::filesystem::exists(t.sub("p")));
  }
}
