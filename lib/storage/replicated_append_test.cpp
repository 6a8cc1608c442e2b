// A follower's append_replicated: the leader's batch lines are written
// verbatim (the replicas' segment files are byte-equal), checked batch by
// batch (CRC, contiguous offsets, epochs never decreasing), and a bad batch
// stops the append there, leaving the batches before it.
#include <doctest/doctest.h>

#include <filesystem>

#include "storage/partition_log.h"
#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

namespace {

std::unique_ptr<PartitionLog> open_at(const std::string& dir, const LogConfig& c = small_segments(),
                                      Offset rp = Offset(0), Reporter reporter = nullptr) {
  auto r = PartitionLog::open(dir, c, rp, std::move(reporter));
  REQUIRE(r);
  return std::move(*r);
}

// Every byte of the log from `from` on, as a follower would fetch it.
std::string all_bytes(const PartitionLog& log, Offset from) {
  auto r = log.read(from, INT64_MAX / 2, Offset(INT64_MAX));
  REQUIRE(r);
  return bytes_of(*r);
}

// A leader with `batches` batches of 3 records, epochs rising every 10 batches.
std::unique_ptr<PartitionLog> leader_with(const std::string& dir, int batches, const LogConfig& c = small_segments()) {
  auto log = open_at(dir, c);
  for (int i = 0; i < batches; ++i) {
    std::string tag = "b";  // built in steps: gcc 12 warns (-Wrestrict) on "b" + to_string
    tag += std::to_string(i);
    std::string rec = records_of(3, 30, tag);
    REQUIRE(log->append(rec, 3, crc_of(rec), LeaderEpoch(1 + i / 10), TimestampMs(1000 + i)));
  }
  return log;
}

// One batch line stamped at `base` with `epoch`.
std::string line_at(int64_t base, int32_t epoch, int n = 2, int64_t ts = 5000) {
  std::string tag = "r";
  tag += std::to_string(base);
  std::string rec = records_of(n, 20, tag);
  BatchHeader h = stamped_header(rec, base, n, epoch, ts);
  return encode_batch_prefix(h) + rec + std::string(kBatchSuffix);
}

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("a follower's segment files are byte-equal to the leader's after replicated appends") {
    TempDir t;
    auto leader = leader_with(t.sub("leader"), 60);
    auto follower = open_at(t.sub("follower"));
    // Fetch answers of varying sizes, each whole batch lines.
    Offset at(0);
    int64_t budget = 300;
    while (at < leader->log_end()) {
      auto r = leader->read(at, budget, Offset(INT64_MAX));
      REQUIRE(r);
      auto end = follower->append_replicated(bytes_of(*r));
      REQUIRE(end);
      CHECK(*end == r->next);
      at = r->next;
      budget = budget * 3 / 2;
    }
    CHECK(follower->log_end() == leader->log_end());
    CHECK(follower->last_epoch() == leader->last_epoch());
    CHECK(follower->epochs().entries() == leader->epochs().entries());
    CHECK(follower->unflushed_messages() == 180);
    auto lf = log_files(t.sub("leader")), ff = log_files(t.sub("follower"));
    REQUIRE(lf.size() > 3);
    REQUIRE(lf.size() == ff.size());
    for (size_t i = 0; i < lf.size(); ++i) {
      CHECK(std::filesystem::path(lf[i]).filename() == std::filesystem::path(ff[i]).filename());
      CHECK(slurp(lf[i]) == slurp(ff[i]));
    }
    // Indexes work: reads from the middle, time lookups.
    CHECK(all_bytes(*follower, Offset(91)) == all_bytes(*leader, Offset(91)));
    CHECK(*follower->offset_for_time(TimestampMs(1030)) == Offset(90));
    // And all of it survives a restart that verifies everything.
    follower.reset();
    follower = open_at(t.sub("follower"));
    CHECK(follower->log_end() == Offset(180));
    CHECK(all_bytes(*follower, Offset(0)) == all_bytes(*leader, Offset(0)));
  }

  TEST_CASE("a bad batch in a replicated append stops it there and keeps the batches before it") {
    TempDir t;
    auto log = open_at(t.sub("p"));
    REQUIRE(log->append_replicated(line_at(0, 1)));
    std::string good = line_at(2, 1) + line_at(4, 2);
    std::string bad;
    std::string why;
    SUBCASE("a flipped byte (CRC)") {
      bad = line_at(6, 2);
      bad[bad.size() - 8] ^= 1;
      why = "crc";
    }
    SUBCASE("a gap in the offsets") { bad = line_at(7, 2), why = "does not follow"; }
    SUBCASE("offsets already in the log") { bad = line_at(5, 2), why = "does not follow"; }
    SUBCASE("an epoch going back") { bad = line_at(6, 1), why = "epoch 1 is below the log's epoch 2"; }
    bool last = false;
    SUBCASE("a torn last line") {
      bad = line_at(6, 2);
      bad.pop_back();
      why = "end inside a batch line";
      last = true;
    }
    SUBCASE("a line cut short before the next one") {
      bad = line_at(6, 2);
      bad.erase(bad.size() - 3, 2);
      why = "";
    }
    SUBCASE("not a batch at all") { bad = "{\"nope\":1}\n", why = ""; }
    std::string after = last ? "" : line_at(8, 2);
    auto r = log->append_replicated(good + bad + after);
    REQUIRE_FALSE(r);
    CHECK(r.status().code() == Code::kCorrupt);
    CHECK(r.status().message().find("p at offset") != std::string::npos);
    INFO(r.status().message());
    CHECK(r.status().message().find(why) != std::string::npos);
    CHECK(log->log_end() == Offset(6));  // the good ones stay
    CHECK(log->latest_epoch() == LeaderEpoch(2));
    CHECK(headers_of(all_bytes(*log, Offset(0))).size() == 3);
    // The log goes on from there.
    REQUIRE(log->append_replicated(line_at(6, 2)));
    CHECK(log->log_end() == Offset(8));
  }

  TEST_CASE("a replicated append names the partition and the offset of the bad batch") {
    TempDir t;
    auto log = open_at(t.sub("orders-3"));
    REQUIRE(log->append_replicated(line_at(0, 1) + line_at(2, 1)));
    auto r = log->append_replicated(line_at(5, 1));
    REQUIRE_FALSE(r);
    CHECK(r.status().message().rfind("append replicated batch to orders-3 at offset 5: ", 0) == 0);
  }

  TEST_CASE("a compacted log accepts a replicated batch past its log end") {
    TempDir t;
    LogConfig c = small_segments();
    c.cleanup_compact = true;
    c.cleanup_delete = false;
    auto log = open_at(t.sub("p"), c);
    REQUIRE(log->append_replicated(line_at(0, 1) + line_at(10, 1)));
    CHECK(log->log_end() == Offset(12));
    // Never below it.
    CHECK_FALSE(log->append_replicated(line_at(11, 1)));
    auto r = log->read(Offset(3), 1 << 20, Offset(INT64_MAX));
    REQUIRE(r);
    CHECK(headers_of(bytes_of(*r)).front().base == Offset(10));
  }

  TEST_CASE("replicated appends roll segments by segment.bytes and by the batches' own time") {
    TempDir t;
    SUBCASE("segment.bytes") {
      auto log = open_at(t.sub("p"), small_segments(600));
      std::string lines;
      for (int i = 0; i < 20; ++i) lines += line_at(2 * i, 1);
      REQUIRE(log->append_replicated(lines));
      CHECK(log->segment_count() > 3);
      for (const auto& f : log_files(t.sub("p"))) CHECK(slurp(f).size() <= 600);
    }
    SUBCASE("segment.ms") {
      LogConfig c = small_segments(1 << 20);
      c.segment_ms = 1000;
      auto log = open_at(t.sub("p"), c);
      REQUIRE(log->append_replicated(line_at(0, 1, 2, 5000) + line_at(2, 1, 2, 5500) + line_at(4, 1, 2, 6500)));
      CHECK(log->segment_count() == 2);
    }
  }

  TEST_CASE("max.message.bytes is the leader's check, not the follower's") {
    TempDir t;
    LogConfig c = small_segments(1 << 20);
    c.max_message_bytes = 16;
    auto log = open_at(t.sub("p"), c);
    REQUIRE(log->append_replicated(line_at(0, 1, 5)));
    CHECK(log->log_end() == Offset(5));
  }

  TEST_CASE("a torn batch after replicated appends is cut at restart and the follower goes on") {
    TempDir t;
    auto leader = leader_with(t.sub("leader"), 12, small_segments(1 << 20));
    std::string bytes = all_bytes(*leader, Offset(0));
    auto follower = open_at(t.sub("f"), small_segments(1 << 20));
    REQUIRE(follower->append_replicated(bytes));
    REQUIRE(follower->flush());
    Offset rp = follower->recovery_point();
    CHECK(rp == Offset(36));
    // A crash while writing the next fetch answer: half a line at the end.
    std::string more = line_at(36, 3);
    REQUIRE(follower->append_replicated(more));
    follower.reset();
    std::string path = log_files(t.sub("f")).back();
    std::string file = slurp(path);
    spit(path, file.substr(0, file.size() - more.size() / 2));
    std::vector<std::string> reports;
    follower = open_at(t.sub("f"), small_segments(1 << 20), rp, [&](std::string_view m) { reports.emplace_back(m); });
    CHECK(follower->log_end() == Offset(36));
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].find("torn tail at offset 36") != std::string::npos);
    // The epoch history was written before the lost batch: it is cut back.
    CHECK(follower->latest_epoch() == LeaderEpoch(2));
    CHECK(follower->end_offset_for_epoch(LeaderEpoch(2)).end == Offset(36));
    // Fetching again from the log end repairs it byte for byte.
    REQUIRE(follower->append_replicated(more));
    CHECK(slurp(path) == file);
  }
}
