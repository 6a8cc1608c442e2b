// Start-up recovery on real files: torn tails at every byte, corruption past
// the recovery point, broken segment chains, leftovers and lost indexes.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "storage/partition_log.h"
#include "storage/segment.h"
#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

namespace {

namespace fs = std::filesystem;

struct Opened {
  std::unique_ptr<PartitionLog> log;
  std::vector<std::string> reports;
};

Opened reopen(const std::string& dir, int64_t rp, const LogConfig& c = small_segments(4096, 512)) {
  Opened o;
  auto r = PartitionLog::open(dir, c, Offset(rp), [&o](std::string_view m) { o.reports.emplace_back(m); });
  REQUIRE(r);
  o.log = std::move(*r);
  return o;
}

// Every batch reads back and chains without gaps from log_start.
void check_readable(PartitionLog& log) {
  auto r = log.read(log.log_start(), 1 << 30, Offset(INT64_MAX));
  REQUIRE(r);
  auto hs = headers_of(bytes_of(*r));
  Offset expect = log.log_start();
  for (const auto& h : hs) {
    CHECK(h.base == expect);
    expect = h.next();
  }
  CHECK(expect == log.log_end());
}

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("a torn tail is truncated to the last good batch at every cut position") {
    TempDir t;
    std::string dir = t.sub("p");
    Offset before_last;
    {
      auto o = reopen(dir, 0);
      for (int i = 0; i < 9; ++i) REQUIRE(append_records(*o.log, records_of(2, 40), 2));
      before_last = o.log->log_end();
      REQUIRE(append_records(*o.log, records_of(3, 40), 3));
    }
    auto files = log_files(dir);
    std::string last_file = files.back();
    std::string full = slurp(last_file);
    std::string all_index = slurp(last_file.substr(0, last_file.size() - 4) + ".index");
    size_t last_line_start = full.rfind('\n', full.size() - 2) + 1;
    for (size_t cut = last_line_start; cut < full.size(); ++cut) {
      CAPTURE(cut);
      spit(last_file, full.substr(0, cut));
      auto o = reopen(dir, 0);
      CHECK(o.log->log_end() == before_last);
      check_readable(*o.log);
      CHECK(fs::file_size(last_file) == last_line_start);
      if (cut > last_line_start) {
        REQUIRE(o.reports.size() == 1);
        CHECK(o.reports[0].find(dir + ": truncated torn tail at offset " +
                                std::to_string(before_last.value()) + " (file pos ") == 0);
        CHECK(o.reports[0].find(std::to_string(cut - last_line_start) + " bytes dropped") !=
              std::string::npos);
      } else {
        CHECK(o.reports.empty());
      }
      // And the log is appendable where it ends.
      auto a = append_records(*o.log, records_of(3, 40), 3);
      REQUIRE(a);
      CHECK(a->base == before_last);
    }
  }

  TEST_CASE("a corrupt byte past the recovery point truncates there and drops later segments") {
    TempDir t;
    std::string dir = t.sub("p");
    {
      auto o = reopen(dir, 0);
      for (int i = 0; i < 120; ++i) REQUIRE(append_records(*o.log, records_of(2, 40), 2));
      REQUIRE(o.log->segment_count() >= 4);
      // A recovery point past a batch is written only after a flush, and a
      // flush writes the epoch history first (a new log's first epoch waits for it).
      REQUIRE(o.log->flush());
    }
    auto files = log_files(dir);
    // Damage a record byte in the middle of the second segment.
    std::string victim = files[1];
    std::string bytes = slurp(victim);
    size_t mid = bytes.size() / 2;
    size_t line_start = bytes.rfind('\n', mid) + 1;
    size_t rec = bytes.find("\"value\":\"", mid) + 10;
    bytes[rec] = 'Q';
    spit(victim, bytes);
    auto first_bad = parse_batch(std::string_view(bytes).substr(line_start));
    CHECK(first_bad.status().code() == Code::kCorrupt);
    int64_t bad_offset = parse_batch_prefix(std::string_view(bytes).substr(line_start))->header.base.value();

    SUBCASE("recovery point before the damage") {
      auto o = reopen(dir, 0);
      CHECK(o.log->log_end() == Offset(bad_offset));
      check_readable(*o.log);
      CHECK(fs::file_size(victim) == line_start);
      CHECK(log_files(dir).size() == 2);
      REQUIRE(o.reports.size() == 1);
      CHECK(o.reports[0].find("at offset " + std::to_string(bad_offset) + " (file pos " +
                              std::to_string(line_start)) != std::string::npos);
      CHECK(o.reports[0].find("crc") != std::string::npos);
    }
    SUBCASE("recovery point after the damaged segment: it is not scanned at start-up") {
      int64_t third_base = std::stoll(fs::path(files[2]).stem().string());
      auto o = reopen(dir, third_base);
      CHECK(o.reports.empty());
      CHECK(o.log->log_end() == Offset(240));
      CHECK(log_files(dir).size() == files.size());
    }
  }

  TEST_CASE("a segment whose first batch disagrees with its file name is cut at its start") {
    TempDir t;
    std::string dir = t.sub("p");
    {
      auto o = reopen(dir, 0);
      for (int i = 0; i < 5; ++i) REQUIRE(append_records(*o.log, records_of(2, 40), 2));
    }
    fs::rename(dir + "/00000000000000000000.log", dir + "/00000000000000000005.log");
    auto o = reopen(dir, 0);
    REQUIRE(o.reports.size() == 1);
    CHECK(o.reports[0].find("segment file is named for 5") != std::string::npos);
    CHECK(o.log->log_start() == Offset(5));
    CHECK(o.log->log_end() == Offset(5));
  }

  TEST_CASE("a gap between segments past the recovery point drops the later segments") {
    TempDir t;
    std::string dir = t.sub("p");
    {
      auto o = reopen(dir, 0);
      for (int i = 0; i < 60; ++i) REQUIRE(append_records(*o.log, records_of(2, 40), 2));
    }
    auto files = log_files(dir);
    REQUIRE(files.size() >= 3);
    int64_t second_base = std::stoll(fs::path(files[1]).stem().string());
    fs::remove(files[1]);
    auto o = reopen(dir, 0);
    REQUIRE(o.reports.size() == 1);
    CHECK(o.reports[0].find("but the next segment starts at") != std::string::npos);
    CHECK(o.log->log_end() == Offset(second_base));
    CHECK(log_files(dir).size() == 1);
    check_readable(*o.log);
  }

  TEST_CASE("leftover temp files and orphan indexes are removed at open") {
    TempDir t;
    std::string dir = t.sub("p");
    fs::create_directories(dir);
    spit(dir + "/00000000000000000000.log.deleted", "x");
    spit(dir + "/00000000000000000005.index", "12345678");
    spit(dir + "/00000000000000000000.index.tmp", "");
    auto o = reopen(dir, 0);
    CHECK(o.log->log_end() == Offset(0));
    CHECK_FALSE(fs::exists(dir + "/00000000000000000000.log.deleted"));
    CHECK_FALSE(fs::exists(dir + "/00000000000000000005.index"));
    CHECK_FALSE(fs::exists(dir + "/00000000000000000000.index.tmp"));
  }

  TEST_CASE("lost or stale index files are rebuilt after a restart") {
    TempDir t;
    std::string dir = t.sub("p");
    std::vector<std::string> good;
    {
      auto o = reopen(dir, 0);
      for (int i = 0; i < 100; ++i) REQUIRE(append_records(*o.log, records_of(2, 40), 2, 1000 + i));
      REQUIRE(o.log->flush());
    }
    auto files = log_files(dir);
    for (const auto& f : files) good.push_back(slurp(f.substr(0, f.size() - 4) + ".index"));
    std::string first_index = files[0].substr(0, files[0].size() - 4) + ".index";
    std::string first_time = files[0].substr(0, files[0].size() - 4) + ".timeindex";
    std::string last_index = files.back().substr(0, files.back().size() - 4) + ".index";
    fs::remove(first_index);
    fs::remove(first_time);
    spit(last_index, std::string(16, '\xff'));
    auto o = reopen(dir, 200);
    CHECK(o.log->log_end() == Offset(200));
    CHECK(slurp(last_index) == good.back());  // the active one at open
    check_readable(*o.log);                   // the closed one on first lookup
    CHECK(slurp(first_index) == good.front());
    CHECK(fs::file_size(first_time) > 0);
    CHECK(*o.log->offset_for_time(TimestampMs(1050)) == Offset(100));
  }

  TEST_CASE("open trusts segments before the recovery point without reading them") {
    TempDir t;
    std::string dir = t.sub("p");
    {
      auto o = reopen(dir, 0);
      for (int i = 0; i < 100; ++i) REQUIRE(append_records(*o.log, records_of(2, 40), 2));
      REQUIRE(o.log->flush());
    }
    auto files = log_files(dir);
    // Garbage in a closed segment's prefix: not seen at open, reported as
    // corrupt when a read reaches it.
    std::string bytes = slurp(files[0]);
    size_t second_line = bytes.find('\n') + 1;
    bytes[second_line + 2] = '#';
    spit(files[0], bytes);
    auto o = reopen(dir, 200);
    CHECK(o.reports.empty());
    CHECK(o.log->log_end() == Offset(200));
    auto r = o.log->read(Offset(3), 100, Offset(INT64_MAX));
    REQUIRE_FALSE(r);
    CHECK(r.status().code() == Code::kCorrupt);
  }
}

TEST_SUITE("storage") {
  TEST_CASE("batches longer than the scan windows read, recover and tear like small ones") {
    TempDir t;
    std::string dir = t.sub("p");
    LogConfig c = small_segments(4096, 512);
    c.max_message_bytes = 4 << 20;
    std::string big = records_of(3000, 500);  // ~1.5 MB: past both the 64 KiB and 1 MiB windows
    {
      auto o = reopen(dir, 0, c);
      REQUIRE(append_records(*o.log, records_of(2), 2));
      REQUIRE(append_records(*o.log, big, 3000));
      REQUIRE(append_records(*o.log, records_of(2), 2));
      auto r = o.log->read(Offset(1500), 10, Offset(INT64_MAX));
      REQUIRE(r);
      auto bytes = bytes_of(*r);
      auto p = parse_batch(bytes);
      REQUIRE(p);
      CHECK(p->records == big);
      CHECK(r->next == Offset(3002));
    }
    auto o = reopen(dir, 0, c);
    CHECK(o.reports.empty());
    CHECK(o.log->log_end() == Offset(3004));
    o.log.reset();
    // Cut the big batch short, and separately flip a byte deep inside it.
    std::string file = dir + "/00000000000000000002.log";  // the big batch has a segment of its own
    std::string full = slurp(file);
    REQUIRE(full.size() > 1'400'000);
    size_t big_start = 0;
    spit(file, full.substr(0, big_start + 1'200'000));
    o = reopen(dir, 0, c);
    CHECK(o.log->log_end() == Offset(2));
    REQUIRE(o.reports.size() == 1);
    CHECK(o.reports[0].find("incomplete batch line") != std::string::npos);
    o.log.reset();
    std::string flipped = full;
    flipped[big_start + 1'100'000] ^= 0x02;
    spit(file, flipped);
    o = reopen(dir, 0, c);
    CHECK(o.log->log_end() == Offset(2));
    REQUIRE(o.reports.size() == 1);
    CHECK(o.reports[0].find("crc") != std::string::npos);
  }
}
