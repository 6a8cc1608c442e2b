// Flushing segments closed by rolls in the background: the plan holds only
// closed segments, the recovery point stops at the active segment's base and
// never passes bytes a failed or unfinished plan did not sync, and the
// directory is fsynced once per plan.
#include <doctest/doctest.h>

#include <thread>

#include "storage/partition_log.h"
#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

namespace {

std::unique_ptr<PartitionLog> open_log(const std::string& dir, int64_t rp = 0) {
  auto r = PartitionLog::open(dir, small_segments(1024), Offset(rp), nullptr);
  REQUIRE(r);
  return std::move(*r);
}

// A File whose fdatasync fails, as on a disk that lost the write.
class FailingSync final : public File {
 public:
  Status append(std::string_view) override { return Status::ok(); }
  Status appendv(const struct iovec*, int) override { return Status::ok(); }
  Result<size_t> pread(int64_t, char*, size_t) const override { return size_t{0}; }
  int64_t size() const override { return 0; }
  Status truncate(int64_t) override { return Status::ok(); }
  Status sync() override { return io_error("fdatasync test: Input/output error"); }
};

// Appends until the log has at least `segments` segments.
void fill(PartitionLog& log, int segments) {
  while (log.segment_count() < segments) REQUIRE(append_records(log, records_of(3, 40), 3));
}

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("a closed-segment flush syncs only rolled segments and stops the recovery point at the active one") {
    TempDir t;
    auto log = open_log(t.sub("p"));
    REQUIRE(log->flush());  // the empty first segment and the directory
    CHECK(!log->has_unsynced_closed());
    fill(*log, 5);
    CHECK(log->has_unsynced_closed());
    const int64_t unflushed = log->unflushed_messages();

    FlushPlan plan = log->begin_flush_closed();
    CHECK(plan.closed_only);
    CHECK(plan.segments.size() == 4);        // never the active segment
    CHECK(plan.files.size() == 4);           // closed segments hold one file: the log
    CHECK(plan.fsync_dir);                   // four segments were created: one directory fsync
    CHECK(plan.up_to < log->log_end());      // the active segment's base
    CHECK(!log->has_unsynced_closed());
    CHECK(log->unflushed_messages() == unflushed);  // the active segment still counts

    Status st;
    std::thread worker([&] { st = plan.run(); });
    // The owner keeps appending (and rolling) meanwhile.
    fill(*log, 7);
    worker.join();
    REQUIRE(st);
    log->end_flush(plan);
    CHECK(log->recovery_point() == plan.up_to);
    // The segments rolled meanwhile are next.
    CHECK(log->has_unsynced_closed());
    FlushPlan next = log->begin_flush_closed();
    CHECK(next.segments.size() == 2);
    REQUIRE(next.run());
    log->end_flush(next);
    CHECK(log->recovery_point() == next.up_to);
    // What is left for a shutdown: the active segment alone.
    FlushPlan rest = log->begin_flush();
    CHECK(rest.segments.size() == 1);
    CHECK(rest.up_to == log->log_end());
  }

  TEST_CASE("the recovery point never passes bytes a plan did not sync") {
    TempDir t;
    auto log = open_log(t.sub("p"));
    fill(*log, 4);
    const Offset before = log->recovery_point();

    SUBCASE("a plan that never ran") {
      FlushPlan plan = log->begin_flush_closed();
      REQUIRE(!plan.segments.empty());
      log->end_flush(plan);
      CHECK(log->recovery_point() == before);
      CHECK(log->has_unsynced_closed());
      // Its segments (and the directory) are taken again by the next plan.
      FlushPlan again = log->begin_flush_closed();
      CHECK(again.segments.size() == plan.segments.size());
      CHECK(again.fsync_dir);
    }
    SUBCASE("a plan whose fdatasync failed") {
      FlushPlan plan = log->begin_flush_closed();
      plan.files.insert(plan.files.begin() + 1, std::make_shared<FailingSync>());
      Status st = plan.run();
      CHECK(st.code() == Code::kIoError);
      CHECK(!plan.synced);
      log->end_flush(plan);
      CHECK(log->recovery_point() == before);
      CHECK(log->has_unsynced_closed());
      CHECK(log->begin_flush_closed().segments.size() == plan.segments.size());
    }
    SUBCASE("after a failed fsync even a later good one does not move it (shutdown included)") {
      FlushPlan plan = log->begin_flush();
      plan.files.push_back(std::make_shared<FailingSync>());
      CHECK(!plan.run());
      log->end_flush(plan);
      CHECK(log->sync_failed());
      fill(*log, 2);
      CHECK(log->flush().is_ok());  // what shutdown does
      CHECK(log->recovery_point() == before);
    }
    SUBCASE("a full plan that failed leaves the closed segments to sync too") {
      FlushPlan plan = log->begin_flush();
      plan.files.push_back(std::make_shared<FailingSync>());
      CHECK(!plan.run());
      log->end_flush(plan);
      CHECK(log->recovery_point() == before);
      CHECK(log->has_unsynced_closed());
      CHECK(log->unflushed_messages() > 0);
    }
  }

  TEST_CASE("a plan keeps its files open after retention deletes the segments") {
    TempDir t;
    auto log = open_log(t.sub("p"));
    fill(*log, 4);
    FlushPlan plan = log->begin_flush_closed();
    LogConfig c = small_segments(1024);
    c.retention_bytes = 1;  // delete every closed segment
    log->set_config(c);
    log->set_high_watermark(log->log_end());  // a single replica: all of it is replicated
    auto deleted = log->enforce_retention(TimestampMs(1'700'000'000'000));
    REQUIRE(deleted);
    CHECK(*deleted == 3);
    REQUIRE(plan.run());
    log->end_flush(plan);
    CHECK(log->recovery_point() == plan.up_to);
  }

  TEST_CASE("recovered closed segments are synced in the background after a restart") {
    TempDir t;
    Offset end;
    {
      auto log = open_log(t.sub("p"));
      fill(*log, 4);
      end = log->log_end();
    }
    // As after kill -9: nothing was flushed, everything is recovered and rewritten.
    auto log = open_log(t.sub("p"), 0);
    CHECK(log->log_end() == end);
    CHECK(log->has_unsynced_closed());
    FlushPlan plan = log->begin_flush_closed();
    CHECK(plan.segments.size() == 3);
    REQUIRE(plan.run());
    log->end_flush(plan);
    CHECK(log->recovery_point() == plan.up_to);
  }
}
