// The epoch history a PartitionLog keeps in leader-epoch-checkpoint: appends
// and assign_epoch record new epochs, older ones are fenced, truncations trim
// it from either end, and start-up repairs it (rebuilt from the batches when
// missing or damaged, extended past the recovery point, cut to the log end),
// refusing batches whose epoch goes back.
#include <doctest/doctest.h>

#include <filesystem>

#include "storage/data_dir.h"
#include "storage/partition_log.h"
#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

namespace {

using Entry = LeaderEpochCache::Entry;

struct Opened {
  std::unique_ptr<PartitionLog> log;
  std::vector<std::string> reports;
};

Opened open_at(const std::string& dir, Offset rp = Offset(0), const LogConfig& c = small_segments()) {
  Opened o;
  auto r = PartitionLog::open(dir, c, rp, [&o](std::string_view m) { o.reports.emplace_back(m); });
  REQUIRE(r);
  o.log = std::move(*r);
  return o;
}

void append_in(PartitionLog& log, int32_t epoch, int batches = 1, int64_t ts = 1000) {
  for (int i = 0; i < batches; ++i) {
    std::string rec = records_of(2, 30);
    REQUIRE(log.append(rec, 2, crc_of(rec), LeaderEpoch(epoch), TimestampMs(ts)));
  }
}

std::string checkpoint_of(const std::string& dir) {
  return slurp(dir + "/" + std::string(kEpochCheckpointName));
}

bool mentions(const std::vector<std::string>& reports, std::string_view what) {
  for (const auto& r : reports)
    if (r.find(what) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("appends record each new epoch at its first offset in leader-epoch-checkpoint") {
    TempDir t;
    auto o = open_at(t.sub("p"));
    PartitionLog& log = *o.log;
    CHECK(log.latest_epoch() == LeaderEpoch(-1));
    CHECK_FALSE(std::filesystem::exists(t.sub("p") + "/leader-epoch-checkpoint"));  // nothing yet
    append_in(log, 0, 2);
    append_in(log, 3, 3);
    append_in(log, 3);
    append_in(log, 5);
    CHECK(log.epochs().entries() == std::vector<Entry>{{LeaderEpoch(0), Offset(0)},
                                                      {LeaderEpoch(3), Offset(4)},
                                                      {LeaderEpoch(5), Offset(12)}});
    CHECK(checkpoint_of(t.sub("p")) == "0\n3\n0 0\n3 4\n5 12\n");
    CHECK(log.end_offset_for_epoch(LeaderEpoch(0)) == EpochEnd{LeaderEpoch(0), Offset(4)});
    CHECK(log.end_offset_for_epoch(LeaderEpoch(4)) == EpochEnd{LeaderEpoch(3), Offset(12)});
    CHECK(log.end_offset_for_epoch(LeaderEpoch(9)) == EpochEnd{LeaderEpoch(5), Offset(14)});
    // An append in an older epoch is fenced and writes nothing.
    std::string rec = records_of(2, 30);
    auto r = log.append(rec, 2, crc_of(rec), LeaderEpoch(4), TimestampMs(1000));
    REQUIRE_FALSE(r);
    CHECK(r.status().code() == Code::kFencedEpoch);
    CHECK(log.log_end() == Offset(14));
    // And it all comes back after a restart.
    o.log.reset();
    auto again = open_at(t.sub("p"), Offset(14));
    CHECK(again.log->epochs().entries().size() == 3);
    CHECK(again.reports.empty());
  }

  TEST_CASE("a new leader assigns its epoch at the log end before appending") {
    TempDir t;
    auto o = open_at(t.sub("p"));
    PartitionLog& log = *o.log;
    append_in(log, 1, 2);
    REQUIRE(log.assign_epoch(LeaderEpoch(4), Offset(4)));
    CHECK(log.latest_epoch() == LeaderEpoch(4));
    CHECK(log.last_epoch() == LeaderEpoch(1));  // no batch of epoch 4 yet
    CHECK(log.end_offset_for_epoch(LeaderEpoch(1)) == EpochEnd{LeaderEpoch(1), Offset(4)});
    CHECK(checkpoint_of(t.sub("p")) == "0\n2\n1 0\n4 4\n");
    REQUIRE(log.assign_epoch(LeaderEpoch(4), Offset(4)));  // again: nothing changes
    // A still newer leader that wrote nothing yet replaces it (same start).
    REQUIRE(log.assign_epoch(LeaderEpoch(6), Offset(4)));
    CHECK(log.epochs().entries().back() == Entry{LeaderEpoch(6), Offset(4)});
    CHECK(log.assign_epoch(LeaderEpoch(5), Offset(4)).code() == Code::kFencedEpoch);
    CHECK(log.assign_epoch(LeaderEpoch(7), Offset(2)).code() == Code::kInvalidRequest);
    // The old leader's batches are refused from now on.
    std::string rec = records_of(2, 30);
    CHECK(log.append(rec, 2, crc_of(rec), LeaderEpoch(1), TimestampMs(1)).status().code() == Code::kFencedEpoch);
    append_in(log, 6);
    CHECK(log.epochs().entries().size() == 2);
  }

  TEST_CASE("truncate_to trims the epoch history from the end, retention from the start") {
    TempDir t;
    LogConfig c = small_segments(400);
    c.retention_ms = 10'000;
    auto o = open_at(t.sub("p"), Offset(0), c);
    PartitionLog& log = *o.log;
    append_in(log, 1, 10, 1000);
    append_in(log, 2, 5, 2000);
    append_in(log, 2, 5, 45'000);
    append_in(log, 3, 10, 50'000);
    REQUIRE(log.epochs().entries().size() == 3);
    SUBCASE("truncation") {
      REQUIRE(log.truncate_to(Offset(41)));
      CHECK(log.epochs().entries() == std::vector<Entry>{{LeaderEpoch(1), Offset(0)}, {LeaderEpoch(2), Offset(20)}});
      CHECK(checkpoint_of(t.sub("p")) == "0\n2\n1 0\n2 20\n");
      CHECK(log.end_offset_for_epoch(LeaderEpoch(3)) == EpochEnd{LeaderEpoch(2), Offset(40)});
      // The next leader's first batch at the new end.
      append_in(log, 4);
      CHECK(log.epochs().entries().back() == Entry{LeaderEpoch(4), Offset(40)});
    }
    SUBCASE("truncation to below the log start starts over") {
      log.set_high_watermark(log.log_end());
      REQUIRE(log.enforce_retention(TimestampMs(40'000)));
      REQUIRE(log.log_start() > Offset(0));
      REQUIRE(log.truncate_to(Offset(0)));
      CHECK(log.epochs().entries().empty());
      CHECK(checkpoint_of(t.sub("p")) == "0\n0\n");
    }
    SUBCASE("retention") {
      log.set_high_watermark(log.log_end());
      REQUIRE(log.enforce_retention(TimestampMs(40'000)));
      Offset start = log.log_start();
      REQUIRE(start > Offset(20));
      REQUIRE(start < Offset(40));
      CHECK(log.epochs().entries() == std::vector<Entry>{{LeaderEpoch(2), start}, {LeaderEpoch(3), Offset(40)}});
    }
  }

  TEST_CASE("a missing or damaged leader-epoch-checkpoint is rebuilt from the batches") {
    TempDir t;
    {
      auto o = open_at(t.sub("p"));
      append_in(*o.log, 1, 30);
      append_in(*o.log, 4, 30);
      append_in(*o.log, 7, 2);
      REQUIRE(o.log->flush());
    }
    const std::string want = "0\n3\n1 0\n4 60\n7 120\n";
    REQUIRE(checkpoint_of(t.sub("p")) == want);
    std::string path = t.sub("p") + "/leader-epoch-checkpoint";
    std::string damage;
    SUBCASE("missing") {
      std::filesystem::remove(path);
      damage = "missing";
    }
    SUBCASE("torn (cut mid-line)") {
      spit(path, want.substr(0, 9));
      damage = "no newline";
    }
    SUBCASE("cut at a line end") {
      spit(path, want.substr(0, 8));
      damage = "count says 3";
    }
    SUBCASE("empty") {
      spit(path, "");
      damage = "empty";
    }
    SUBCASE("garbage") {
      spit(path, "hello\n");
      damage = "version";
    }
    SUBCASE("disagrees with the batches") {
      spit(path, "0\n1\n9 0\n");
      damage = "does not agree";
    }
    // Everything is below the recovery point: only the batches can tell.
    auto o = open_at(t.sub("p"), Offset(124));
    CHECK(o.log->epochs().entries().size() == 3);
    CHECK(checkpoint_of(t.sub("p")) == want);
    CHECK(mentions(o.reports, "leader-epoch-checkpoint"));
    CHECK(mentions(o.reports, damage));
    CHECK(mentions(o.reports, "rebuilding the epoch history"));
  }

  TEST_CASE("start-up extends the epoch history from batches past the recovery point and cuts it to the log end") {
    TempDir t;
    {
      auto o = open_at(t.sub("p"));
      append_in(*o.log, 1, 5);
      append_in(*o.log, 2, 5);
      REQUIRE(o.log->flush());
    }
    std::string path = t.sub("p") + "/leader-epoch-checkpoint";
    SUBCASE("behind: an epoch only the batches know") {
      // As if the file were written before the epoch-2 batches (an older broker).
      spit(path, "0\n1\n1 0\n");
      auto o = open_at(t.sub("p"), Offset(4));
      CHECK(o.log->epochs().entries() == std::vector<Entry>{{LeaderEpoch(1), Offset(0)}, {LeaderEpoch(2), Offset(10)}});
      CHECK(checkpoint_of(t.sub("p")) == "0\n2\n1 0\n2 10\n");
      CHECK(o.reports.empty());
    }
    SUBCASE("ahead: entries past the log end are of batches a crash took") {
      spit(path, "0\n4\n1 0\n2 10\n3 20\n5 30\n");
      auto o = open_at(t.sub("p"), Offset(20));
      CHECK(o.log->latest_epoch() == LeaderEpoch(2));
      CHECK(checkpoint_of(t.sub("p")) == "0\n2\n1 0\n2 10\n");
    }
  }

  TEST_CASE("recovery cuts the log at the first batch whose epoch goes back") {
    TempDir t;
    {
      auto o = open_at(t.sub("p"), Offset(0), small_segments(1 << 20));
      append_in(*o.log, 3, 4);
      REQUIRE(o.log->flush());
    }
    // A batch of epoch 2 after epoch 3 ones: no leader writes that, and no
    // follower takes it (append_replicated refuses it): it is damage.
    std::string log_path = log_files(t.sub("p")).front();
    std::string rec = records_of(2, 30);
    BatchHeader back = stamped_header(rec, 8, 2, 2, 2000);
    BatchHeader after = stamped_header(rec, 10, 2, 3, 2000);
    spit(log_path, slurp(log_path) + encode_batch_prefix(back) + rec + "}\n" + encode_batch_prefix(after) + rec + "}\n");
    auto o = open_at(t.sub("p"), Offset(8), small_segments(1 << 20));
    CHECK(o.log->log_end() == Offset(8));
    REQUIRE(o.reports.size() == 1);
    CHECK(o.reports[0].find("truncated torn tail at offset 8") != std::string::npos);
    CHECK(o.reports[0].find("epoch 2, below the previous batch's epoch 3") != std::string::npos);
  }

  TEST_CASE("an epoch history that cannot be written lets appends go on and holds the recovery point below it") {
    TempDir t;
    auto o = open_at(t.sub("p"));
    PartitionLog& log = *o.log;
    append_in(log, 1, 2);
    REQUIRE(log.flush());
    REQUIRE(log.recovery_point() == Offset(4));
    // A directory in its place: every atomic write of the file fails.
    std::string path = t.sub("p") + "/leader-epoch-checkpoint";
    std::filesystem::remove(path);
    std::filesystem::create_directory(path);
    append_in(log, 2, 2);  // epoch 2 at offset 4
    CHECK(log.log_end() == Offset(8));
    CHECK(log.latest_epoch() == LeaderEpoch(2));
    CHECK(mentions(o.reports, "kept in memory"));
    REQUIRE(log.flush());
    CHECK(log.recovery_point() == Offset(4));  // start-up must scan the epoch-2 batches
    std::filesystem::remove(path);
    REQUIRE(log.flush());
    CHECK(log.recovery_point() == Offset(8));
    CHECK(checkpoint_of(t.sub("p")) == "0\n2\n1 0\n2 4\n");
  }

  TEST_CASE("reset_to starts an empty log at the leader's log start") {
    TempDir t;
    auto o = open_at(t.sub("p"));
    PartitionLog& log = *o.log;
    append_in(log, 1, 40);
    log.set_high_watermark(Offset(50));
    REQUIRE(log.segment_count() > 2);
    REQUIRE(log.reset_to(Offset(5000)));
    CHECK(log.log_start() == Offset(5000));
    CHECK(log.log_end() == Offset(5000));
    CHECK(log.high_watermark() == Offset(5000));
    CHECK(log.recovery_point() == Offset(5000));
    CHECK(log.segment_count() == 1);
    CHECK(log.epochs().entries().empty());
    CHECK(log.latest_epoch() == LeaderEpoch(-1));
    CHECK(log.unflushed_messages() == 0);
    CHECK(log_files(t.sub("p")) == std::vector<std::string>{t.sub("p") + "/00000000000000005000.log"});
    CHECK(checkpoint_of(t.sub("p")) == "0\n0\n");
    // A read below it is out of range; replication goes on from it.
    CHECK(log.read(Offset(10), 100, Offset(INT64_MAX)).status().code() == Code::kOffsetOutOfRange);
    std::string rec = records_of(2, 30);
    BatchHeader h = stamped_header(rec, 5000, 2, 1, 3000);
    REQUIRE(log.append_replicated(encode_batch_prefix(h) + rec + "}\n"));
    CHECK(log.epochs().entries() == std::vector<Entry>{{LeaderEpoch(1), Offset(5000)}});
    // And a restart finds the same log.
    o.log.reset();
    auto again = open_at(t.sub("p"), Offset(5000));
    CHECK(again.log->log_start() == Offset(5000));
    CHECK(again.log->log_end() == Offset(5002));
    CHECK(again.reports.empty());
  }
}
