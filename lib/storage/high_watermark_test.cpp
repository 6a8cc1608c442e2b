// The high watermark in the storage engine: it only rises (clamped to the log
// end) unless a truncation or reset lowers it; retention and compaction touch
// only what lies below it; a quiet partition's active segment expires once
// wholly below it; LogManager keeps it in replication-offset-checkpoint.
#include <doctest/doctest.h>

#include <filesystem>

#include "storage/compactor.h"
#include "storage/data_dir.h"
#include "storage/log_manager.h"
#include "storage/partition_log.h"
#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

namespace {

std::unique_ptr<PartitionLog> open_log(const std::string& dir, const LogConfig& c = small_segments(),
                                       Offset rp = Offset(0)) {
  auto r = PartitionLog::open(dir, c, rp, nullptr);
  REQUIRE(r);
  return std::move(*r);
}

// `batches` batches of 2 records; batch i at ts0 + 1000 i.
void fill(PartitionLog& log, int batches, int64_t ts0 = 100'000) {
  for (int i = 0; i < batches; ++i) REQUIRE(append_records(log, records_of(2, 40), 2, ts0 + 1000 * i));
}

std::unique_ptr<LogManager> open_manager(const std::string& dir, std::vector<std::string>* reports = nullptr) {
  auto m = LogManager::open(dir, LogConfig(), [reports](std::string_view r) {
    if (reports) reports->emplace_back(r);
  });
  REQUIRE(m);
  return std::move(*m);
}

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("the high watermark only rises, stays within the log, and truncation lowers it") {
    TempDir t;
    auto log = open_log(t.sub("p"));
    CHECK(log->high_watermark() == Offset(0));
    fill(*log, 10);
    CHECK(log->high_watermark() == Offset(0));  // appends leave it to the caller
    log->set_high_watermark(Offset(8));
    CHECK(log->high_watermark() == Offset(8));
    log->set_high_watermark(Offset(4));
    CHECK(log->high_watermark() == Offset(8));
    log->set_high_watermark(Offset(1000));
    CHECK(log->high_watermark() == Offset(20));
    REQUIRE(log->truncate_to(Offset(12)));
    CHECK(log->high_watermark() == Offset(12));
    log->set_high_watermark(Offset(14));
    CHECK(log->high_watermark() == Offset(12));
    // A log opened on its own knows nothing replicated: it starts at its log start.
    REQUIRE(log->flush());
    log.reset();
    log = open_log(t.sub("p"), small_segments(), Offset(12));
    CHECK(log->high_watermark() == log->log_start());
    log->restore_high_watermark(Offset(99));
    CHECK(log->high_watermark() == Offset(12));
    log->restore_high_watermark(Offset(-5));
    CHECK(log->high_watermark() == log->log_start());
  }

  TEST_CASE("retention deletes only segments wholly below the high watermark") {
    TempDir t;
    LogConfig c = small_segments();
    c.retention_ms = 1000;
    auto log = open_log(t.sub("p"), c);
    fill(*log, 100);
    int before = log->segment_count();
    REQUIRE(before > 6);
    SUBCASE("retention.ms") {
      CHECK(*log->enforce_retention(TimestampMs(10'000'000)) == 0);  // nothing replicated yet
      CHECK(log->segment_count() == before);
      log->set_high_watermark(Offset(60));
      REQUIRE(*log->enforce_retention(TimestampMs(10'000'000)) > 0);
      // The segment holding offset 60 and later stay; nothing at or past 60 went.
      CHECK(log->log_start() <= Offset(60));
      CHECK(log->read(Offset(60), 100, Offset(INT64_MAX)));
      Offset start = log->log_start();
      log->set_high_watermark(log->log_end() - 1);
      REQUIRE(log->enforce_retention(TimestampMs(10'000'000)));
      CHECK(log->log_start() > start);
      CHECK(log->log_end() == Offset(200));
      CHECK(log->log_start() < Offset(200));  // the active segment is not wholly below it
    }
    SUBCASE("retention.bytes") {
      c.retention_ms = kNever;
      c.retention_bytes = 1;
      log->set_config(c);
      log->set_high_watermark(Offset(30));
      REQUIRE(*log->enforce_retention(TimestampMs(0)) > 0);
      CHECK(log->log_start() <= Offset(30));
      CHECK(log->log_start() > Offset(0));
    }
  }

  TEST_CASE("a quiet partition's active segment expires by retention.ms once wholly below the high watermark") {
    TempDir t;
    LogConfig c = small_segments(1 << 20);  // one segment: everything is in the active one
    c.retention_ms = 60'000;
    auto log = open_log(t.sub("p"), c);
    fill(*log, 5);  // ts 100000 .. 104000
    REQUIRE(log->segment_count() == 1);
    log->set_high_watermark(log->log_end());
    SUBCASE("young: kept") {
      CHECK(*log->enforce_retention(TimestampMs(150'000)) == 0);
      CHECK(log->log_start() == Offset(0));
    }
    SUBCASE("not wholly below the high watermark: kept") {
      fill(*log, 1, 105'000);
      CHECK(*log->enforce_retention(TimestampMs(10'000'000)) == 0);
      CHECK(log->log_start() == Offset(0));
      CHECK(log->segment_count() == 1);
    }
    SUBCASE("old and replicated: rolled and deleted") {
      CHECK(*log->enforce_retention(TimestampMs(200'000)) == 1);
      CHECK(log->segment_count() == 1);
      CHECK(log->log_start() == Offset(10));
      CHECK(log->log_end() == Offset(10));
      CHECK(log->high_watermark() == Offset(10));
      CHECK(log->read(Offset(10), 100, Offset(INT64_MAX))->bytes == 0);
      CHECK(log_files(t.sub("p")) == std::vector<std::string>{t.sub("p") + "/00000000000000000010.log"});
      // The epoch history keeps the epoch running at the new start.
      CHECK(log->epochs().entries() ==
            std::vector<LeaderEpochCache::Entry>{{LeaderEpoch(0), Offset(10)}});
      // Appends go on at the same offsets; a restart agrees.
      fill(*log, 1, 300'000);
      CHECK(log->log_end() == Offset(12));
      REQUIRE(log->flush());
      Offset rp = log->recovery_point();
      log.reset();
      log = open_log(t.sub("p"), c, rp);
      CHECK(log->log_start() == Offset(10));
      CHECK(log->log_end() == Offset(12));
    }
    SUBCASE("retention.ms off: kept") {
      c.retention_ms = kNever;
      log->set_config(c);
      CHECK(*log->enforce_retention(TimestampMs(10'000'000)) == 0);
    }
  }

  TEST_CASE("compaction cleans only closed segments below the high watermark") {
    TempDir t;
    LogConfig c = small_segments(300, 64);
    c.cleanup_compact = true;
    c.cleanup_delete = false;
    auto log = open_log(t.sub("p"), c);
    // One key, overwritten: every record but the newest is garbage.
    for (int i = 0; i < 40; ++i) {
      std::string rec = "[{\"key\":\"k\",\"value\":\"v" + std::to_string(i) + "\"}]";
      REQUIRE(log->append(rec, 1, crc_of(rec), LeaderEpoch(0), TimestampMs(1000 + i)));
    }
    REQUIRE(log->segment_count() > 4);
    CHECK(Compactor::begin(*log, TimestampMs(100'000)) == nullptr);  // HW 0: nothing cleanable
    CHECK(Compactor::assess(*log, TimestampMs(100'000)).dirty_bytes == 0);
    log->set_high_watermark(Offset(20));
    auto r = Compactor::compact_now(*log, TimestampMs(100'000));
    REQUIRE(r);
    CHECK(r->outcome == CompactionOutcome::kSwapped);
    CHECK(log->cleaner().cleaned_to <= Offset(20));
    // Every record at or past the high watermark is still there.
    auto read = log->read(Offset(20), 1 << 20, Offset(INT64_MAX));
    REQUIRE(read);
    auto hs = headers_of(bytes_of(*read));
    REQUIRE(!hs.empty());
    CHECK(hs.front().base == Offset(20));
    CHECK(hs.size() == 20);
  }

  TEST_CASE("a flush plan begun before a truncation never moves the recovery point over bytes written after it") {
    TempDir t;
    auto log = open_log(t.sub("p"), small_segments(1 << 20));
    fill(*log, 10);  // offsets 0..19
    REQUIRE(log->flush());
    REQUIRE(log->recovery_point() == Offset(20));
    fill(*log, 5);   // 20..29, unsynced
    FlushPlan plan = log->begin_flush();
    CHECK(plan.up_to == Offset(30));
    fill(*log, 2);   // 30..33
    REQUIRE(log->truncate_to(Offset(24)));
    CHECK(log->recovery_point() == Offset(20));
    fill(*log, 5);   // 24..33 again: new bytes, written after the plan began
    REQUIRE(plan.run());
    log->end_flush(plan);
    // The plan may vouch for what lay below the cut, nothing at or past it.
    CHECK(log->recovery_point() == Offset(24));
    CHECK(log->unflushed_messages() > 0);
    CHECK(log->has_unsynced());
    // The next flush covers the rest.
    REQUIRE(log->flush());
    CHECK(log->recovery_point() == Offset(34));
  }

  TEST_CASE("a flush plan stops at the lowest of many truncations since it began") {
    TempDir t;
    auto log = open_log(t.sub("p"), small_segments(1 << 20));
    fill(*log, 25);  // 0..49
    FlushPlan plan = log->begin_flush();
    // More truncations than the log keeps one by one; the lowest is the last.
    for (int i = 0; i < 20; ++i) REQUIRE(log->truncate_to(log->log_end() - 1));
    CHECK(log->log_end() == Offset(10));
    fill(*log, 10);  // 10..29, after the plan began
    REQUIRE(plan.run());
    log->end_flush(plan);
    CHECK(log->recovery_point() == Offset(10));
  }

  TEST_CASE("a flush plan begun before a reset does not move the recovery point") {
    TempDir t;
    auto log = open_log(t.sub("p"));
    fill(*log, 10);
    FlushPlan plan = log->begin_flush();
    REQUIRE(log->reset_to(Offset(7)));
    fill(*log, 2);  // 7..10
    REQUIRE(plan.run());
    log->end_flush(plan);
    CHECK(log->recovery_point() == Offset(7));
  }

  TEST_CASE("LogManager keeps every log's high watermark in replication-offset-checkpoint") {
    TempDir t;
    {
      auto m = open_manager(t.path());
      REQUIRE(m->create_topic("a", 2, {}));
      REQUIRE(m->create_topic("b", 1, {}));
      PartitionLog* a0 = m->log("a", PartitionId(0));
      PartitionLog* a1 = m->log("a", PartitionId(1));
      PartitionLog* b0 = m->log("b", PartitionId(0));
      fill(*a0, 5);
      fill(*a1, 5);
      fill(*b0, 5);
      a0->set_high_watermark(Offset(6));
      a1->set_high_watermark(Offset(10));
      REQUIRE(m->flush_all());
      CHECK(slurp(t.sub("replication-offset-checkpoint")) ==
            "{\"offsets\":{\"a-0\":6,\"a-1\":10,\"b-0\":0},\"version\":1}\n");
      a0->set_high_watermark(Offset(8));
      REQUIRE(m->write_recovery_checkpoint());  // written alongside
      CHECK(slurp(t.sub("replication-offset-checkpoint")).find("\"a-0\":8") != std::string::npos);
    }
    SUBCASE("restored at open") {
      std::vector<std::string> reports;
      auto m = open_manager(t.path(), &reports);
      CHECK(m->log("a", PartitionId(0))->high_watermark() == Offset(8));
      CHECK(m->log("a", PartitionId(1))->high_watermark() == Offset(10));
      CHECK(m->log("b", PartitionId(0))->high_watermark() == Offset(0));
      CHECK(reports.empty());
    }
    SUBCASE("clamped to the log end a crash left") {
      spit(t.sub("replication-offset-checkpoint"), "{\"version\":1,\"offsets\":{\"a-0\":500,\"a-1\":3}}\n");
      auto m = open_manager(t.path());
      CHECK(m->log("a", PartitionId(0))->high_watermark() == Offset(10));
      CHECK(m->log("a", PartitionId(1))->high_watermark() == Offset(3));
      // No entry: the log start, never the log end (an unreplicated tail stays hidden).
      CHECK(m->log("b", PartitionId(0))->high_watermark() == Offset(0));
    }
    SUBCASE("missing or damaged: every log starts at its log start") {
      std::string damage;
      SUBCASE("missing") { std::filesystem::remove(t.sub("replication-offset-checkpoint")); }
      SUBCASE("truncated") {
        std::string text = slurp(t.sub("replication-offset-checkpoint"));
        spit(t.sub("replication-offset-checkpoint"), text.substr(0, text.size() / 2));
        damage = "replication-offset checkpoint is unreadable";
      }
      std::vector<std::string> reports;
      auto m = open_manager(t.path(), &reports);
      for (const auto& e : m->logs()) CHECK(e.log->high_watermark() == e.log->log_start());
      if (!damage.empty()) {
        REQUIRE(reports.size() == 1);
        CHECK(reports[0].find(damage) != std::string::npos);
      } else {
        CHECK(reports.empty());
      }
    }
  }

  TEST_CASE("the replication files are kreek's: not strangers at start-up, removed with their partition") {
    TempDir t;
    {
      auto m = open_manager(t.path());
      REQUIRE(m->create_topic("a", 1, {}));
      REQUIRE(append_records(*m->log("a", PartitionId(0)), records_of(2), 2));
      REQUIRE(m->flush_all());
    }
    CHECK(is_data_dir_file_name("replication-offset-checkpoint"));
    CHECK(is_partition_entry_name("leader-epoch-checkpoint"));
    REQUIRE(std::filesystem::exists(t.sub("a-0/leader-epoch-checkpoint")));
    std::vector<std::string> reports;
    auto m = open_manager(t.path(), &reports);
    CHECK(reports.empty());
    REQUIRE(m->delete_topic("a"));
    CHECK_FALSE(std::filesystem::exists(t.sub("a-0")));
  }
}
