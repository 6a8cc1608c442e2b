// Partition choice for produce requests that name no partition.
#include "broker/partition_choice.h"

#include <set>

#include <doctest/doctest.h>

#include "broker/broker_test_util.h"
#include "proto/partitioner.h"

using namespace kreek;
using namespace kreek::broker;
using kreek::broker::testing::error_code;
using kreek::broker::testing::Harness;

namespace {
Result<BatchKey> key_of(const std::string& records, proto::JsonScan& scan) {
  REQUIRE(scan.scan(records).is_ok());
  return batch_key(scan, 0);
}
}  // namespace

TEST_SUITE("broker") {
  TEST_CASE("a batch whose records share one key is keyed by it") {
    proto::JsonScan scan;
    auto k = key_of(R"([{"key":"user-1","value":"a"},{"key":"user-1","value":"b"}])", scan);
    REQUIRE(k.is_ok());
    CHECK(k->keyed);
    CHECK(k->key == "user-1");
    SUBCASE("the same key spelled with escapes or base64 still matches") {
      auto e = key_of(R"([{"key":"ab"},{"key":"\u0061b"},{"key64":"YWI="}])", scan);
      REQUIRE(e.is_ok());
      CHECK(e->key == "ab");
    }
  }

  TEST_CASE("a batch mixing keys, or keyed and keyless records, is refused") {
    proto::JsonScan scan;
    CHECK(key_of(R"([{"key":"a"},{"key":"b"}])", scan).status().code() == Code::kInvalidRequest);
    CHECK(key_of(R"([{"key":"a"},{"value":"b"}])", scan).status().code() == Code::kInvalidRequest);
    CHECK(key_of(R"([{"key":null},{"key":"a"}])", scan).status().code() == Code::kInvalidRequest);
  }

  TEST_CASE("keyed batches use Kafka's partitioner and keyless ones rotate") {
    BatchKey keyed{true, "user-1"};
    uint32_t rr = 0;
    CHECK(choose_partition(keyed, 7, rr) == proto::partition_for_key("user-1", 7));
    CHECK(rr == 0);
    BatchKey none;
    CHECK(choose_partition(none, 3, rr) == 0);
    CHECK(choose_partition(none, 3, rr) == 1);
    CHECK(choose_partition(none, 3, rr) == 2);
    CHECK(choose_partition(none, 3, rr) == 0);
  }

  TEST_CASE("produce without a partition routes by key and round-robins keyless batches") {
    Harness h;
    (void)h.json(R"({"op":"create_topic","topic":"t","partitions":4})");
    int want = proto::partition_for_key("order-42", 4);
    for (int i = 0; i < 3; ++i)
      CHECK(h.json(R"({"op":"produce","topic":"t","records":[{"key":"order-42","value":"x"}]})")["partition"] ==
            want);
    std::set<int> seen;
    for (int i = 0; i < 4; ++i)
      seen.insert(h.json(R"({"op":"produce","topic":"t","records":[{"value":"x"}]})")["partition"].get<int>());
    CHECK(seen.size() == 4);
    CHECK(error_code(h.json(R"({"op":"produce","topic":"t","records":[{"key":"a"},{"key":"b"}]})")) ==
          "INVALID_REQUEST");
    CHECK(h.json(R"({"op":"produce","topic":"t","partition":1,"records":[{"key":"a"},{"key":"b"}]})")["partition"] ==
          1);
  }
}
