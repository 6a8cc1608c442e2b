// A flush that cannot open the partition directory (EMFILE: the process ran
// out of descriptors for a moment) synced nothing it can vouch for, but it did
// not fail an fsync either: the recovery point stays, the log does not freeze,
// and the next flush, once a descriptor is free, advances it.
#include <doctest/doctest.h>

#include "base/atomic_file.h"
#include "storage/descriptor_shortage_test_util.h"
#include "storage/partition_log.h"
#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

TEST_SUITE("storage") {
  TEST_CASE("a directory that cannot be opened for its fsync defers the flush, it does not fail it" * doctest::skip(kUnderSanitizers)) {
    TempDir t;
    auto opened = PartitionLog::open(t.sub("p"), small_segments(1024), Offset(0), nullptr);
    REQUIRE(opened);
    PartitionLog& log = **opened;
    REQUIRE(append_records(log, records_of(3), 3));  // the new segment's directory entry is pending

    FlushPlan plan = log.begin_flush();
    REQUIRE(plan.fsync_dir);
    Status s;
    {
      DescriptorShortage tight;
      s = plan.run();
    }
    CHECK_FALSE(s.is_ok());
    CHECK(s.message().find("open") != std::string::npos);
    CHECK_FALSE(plan.synced);
    CHECK_FALSE(plan.failed);  // no fsync returned an error
    CHECK(plan.retry);
    log.end_flush(plan);
    CHECK_FALSE(log.sync_failed());
    CHECK(log.recovery_point() == Offset(0));
    CHECK(log.unflushed_messages() == 3);  // still due: the next flush takes it again

    REQUIRE(log.flush());
    CHECK(log.recovery_point() == Offset(3));
  }

  TEST_CASE("sync_dir tells a directory it could not open from an fsync that failed" * doctest::skip(kUnderSanitizers)) {
    TempDir t;
    bool fsync_failed = true;
    {
      DescriptorShortage tight;
      Status s = sync_dir(t.path(), &fsync_failed);
      tight.restore();
      CHECK_FALSE(s.is_ok());
    }
    CHECK_FALSE(fsync_failed);
    CHECK(sync_dir(t.path(), &fsync_failed).is_ok());
    CHECK_FALSE(fsync_failed);
  }

  TEST_CASE("write_file_atomically reports a temp file it could not create" * doctest::skip(kUnderSanitizers)) {
    TempDir t;
    Status s;
    {
      DescriptorShortage tight;
      s = write_file_atomically(t.sub("meta.json"), "{}\n");
    }
    CHECK_FALSE(s.is_ok());
    CHECK_FALSE(std::filesystem::exists(t.sub("meta.json")));
  }
}
