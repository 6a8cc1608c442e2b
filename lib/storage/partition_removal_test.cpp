// LogManager::remove_partition: a broker that stops being one partition's
// replica drops that log and its data, keeps the topic's other partitions,
// and the removal holds across a restart.
#include "storage/log_manager.h"

#include <doctest/doctest.h>

#include <filesystem>

#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

TEST_SUITE("storage") {
  TEST_CASE("remove_partition drops one log and its data and keeps the others") {
    TempDir t;
    {
      auto opened = LogManager::open(t.path(), LogConfig(), [](std::string_view) {});
      REQUIRE(opened);
      auto& m = **opened;
      REQUIRE(m.create_topic("orders", 3, {}, "id-1"));
      REQUIRE(append_records(*m.log("orders", PartitionId(1)), records_of(4), 4));
      REQUIRE(append_records(*m.log("orders", PartitionId(2)), records_of(2), 2));
      REQUIRE(m.remove_partition("orders", PartitionId(1)));
      CHECK(m.log("orders", PartitionId(1)) == nullptr);
      CHECK(!std::filesystem::exists(t.sub("orders-1")));
      REQUIRE(m.log("orders", PartitionId(2)) != nullptr);
      CHECK(m.log("orders", PartitionId(2))->log_end() == Offset(2));
      CHECK(!m.topic("orders")->hosts(1));
      CHECK(m.topic("orders")->partitions == 3);
      // Again, or a partition never held: nothing to do.
      CHECK(m.remove_partition("orders", PartitionId(1)));
      CHECK(m.remove_partition("nope", PartitionId(0)).code() == Code::kUnknownTopic);
      REQUIRE(m.flush_all());
    }
    auto again = LogManager::open(t.path(), LogConfig(), [](std::string_view) {});
    REQUIRE(again);
    CHECK((*again)->log("orders", PartitionId(1)) == nullptr);
    CHECK((*again)->log("orders", PartitionId(0)) != nullptr);
    CHECK((*again)->log("orders", PartitionId(2))->log_end() == Offset(2));
    // Hosting it again starts an empty log.
    REQUIRE((*again)->set_hosted("orders", {0, 1, 2}));
    CHECK((*again)->log("orders", PartitionId(1))->log_end() == Offset(0));
  }
}
