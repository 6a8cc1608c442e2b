// create_partitions without a coordinator (the broker's own logs): it raises
// a topic's partition count and never lowers it.
#include <doctest/doctest.h>

#include "broker/broker_test_util.h"

using namespace kreek;
using namespace kreek::broker;
using kreek::broker::testing::error_code;
using kreek::broker::testing::Harness;
using nlohmann::json;

TEST_SUITE("broker") {
  TEST_CASE("create_partitions raises the count and refuses to lower it") {
    Harness h;
    REQUIRE(h.json(R"({"op":"create_topic","topic":"t","partitions":2})")["ok"] == true);
    json j = h.json(R"({"op":"create_partitions","topic":"t","partitions":5})");
    REQUIRE(j["ok"] == true);
    CHECK(j["partitions"] == 5);
    CHECK(j["was"] == 2);
    CHECK(h.json(R"({"op":"metadata","topics":["t"]})")["topics"][0]["partitions"].size() == 5);
    auto lower = h.json(R"({"op":"create_partitions","topic":"t","partitions":3})");
    CHECK(error_code(lower) == "INVALID_REQUEST");
    CHECK(lower["error"]["message"].get<std::string>().find("can only grow") != std::string::npos);
    CHECK(error_code(h.json(R"({"op":"create_partitions","topic":"t","partitions":5})")) == "INVALID_REQUEST");
    CHECK(error_code(h.json(R"({"op":"create_partitions","topic":"nope","partitions":9})")) == "UNKNOWN_TOPIC");
    CHECK(error_code(h.json(R"({"op":"create_partitions","topic":"t"})")) == "INVALID_REQUEST");
  }
}
