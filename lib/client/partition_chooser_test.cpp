// Partition choice: keyed records follow Kafka's murmur2 partitioner, keyless
// ones stick to a partition per batch and rotate.
#include "client/partition_chooser.h"

#include <doctest/doctest.h>

#include "proto/partitioner.h"

using kreek::client::PartitionChooser;

TEST_SUITE("client") {
  TEST_CASE("a keyed record goes to partition_for_key of its key") {
    PartitionChooser c(6, 0);
    for (std::string key : {"a", "user-42", "orders", "", "ключ"}) {
      CHECK(c.choose(key) == kreek::proto::partition_for_key(key, 6));
    }
  }

  TEST_CASE("keyed choice does not depend on the sticky partition") {
    PartitionChooser a(4, 0), b(4, 3);
    CHECK(a.choose(std::string("k")) == b.choose(std::string("k")));
  }

  TEST_CASE("keyless records stick to one partition until its batch is sent") {
    PartitionChooser c(3, 1);
    CHECK(c.choose(std::nullopt) == 1);
    CHECK(c.choose(std::nullopt) == 1);
    c.on_batch_sent(0);  // some other partition's batch: no move
    CHECK(c.choose(std::nullopt) == 1);
    c.on_batch_sent(1);
    CHECK(c.choose(std::nullopt) == 2);
    c.on_batch_sent(2);
    CHECK(c.choose(std::nullopt) == 0);
  }

  TEST_CASE("a single partition topic always gets partition 0") {
    PartitionChooser c(1, 5);
    CHECK(c.choose(std::nullopt) == 0);
    c.on_batch_sent(0);
    CHECK(c.choose(std::nullopt) == 0);
  }
  TEST_CASE("keyless records skip partitions that are not free") {
    PartitionChooser c(6, 1);
    // Partitions 2 and 3 wait for an unreachable leader: 1 -> 4.
    CHECK(c.skip_to_free([](int32_t p) { return p != 2 && p != 3 && p != 1; }) == 4);
    CHECK(c.sticky() == 4);
    CHECK(c.choose(std::nullopt) == 4);
    // None free: the sticky partition stays.
    CHECK(c.skip_to_free([](int32_t) { return false; }) == 4);
    // It wraps around.
    CHECK(c.skip_to_free([](int32_t p) { return p == 0; }) == 0);
  }
}
