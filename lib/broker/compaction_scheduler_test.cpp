// The broker side of compaction: produce refuses keyless records for compacted
// topics, and the cleaner's tick compacts a due partition that fetch and
// describe_topic then report (no event loop: the work runs inline).
#include "broker/compaction_scheduler.h"

#include <doctest/doctest.h>

#include "broker/broker_test_util.h"

using namespace kreek;
using namespace kreek::broker;
using namespace kreek::broker::testing;
using json = nlohmann::json;

TEST_SUITE("broker compaction") {
  TEST_CASE("a compacted topic refuses records without a key with INVALID_RECORD") {
    Harness h;
    REQUIRE(h.json(R"({"op":"create_topic","topic":"c","config":{"cleanup.policy":"compact"}})")["ok"] == true);
    CHECK(h.json(R"({"op":"produce","topic":"c","records":[{"key":"k","value":"v"}]})")["ok"] == true);
    CHECK(h.json(R"({"op":"produce","topic":"c","records":[{"key64":"AA==","value":null}]})")["ok"] == true);
    json j = h.json(R"({"op":"produce","topic":"c","records":[{"value":"v"}]})");
    CHECK(error_code(j) == "INVALID_RECORD");
    CHECK(j["error"]["message"] == "compacted topic \"c\" cannot accept a record without a key (records[0])");
    j = h.json(R"({"op":"produce","topic":"c","partition":0,"records":[{"key":"k","value":"v"},{"key":null,"value":"v"}]})");
    CHECK(error_code(j) == "INVALID_RECORD");
    CHECK(j["error"]["message"].get<std::string>().find("records[1]") != std::string::npos);
    CHECK(h.logs().log("c", PartitionId(0))->log_end() == Offset(2));
    // delete alone takes keyless records as before
    CHECK(h.json(R"({"op":"produce","topic":"d","records":[{"value":"v"}]})")["ok"] == true);
  }

  TEST_CASE("the cleaner compacts a due partition, and fetch and describe_topic see the result") {
    Harness h;
    REQUIRE(h.json(R"({"op":"create_topic","topic":"c","config":{"cleanup.policy":"compact","segment.bytes":"1024"}})")["ok"] == true);
    for (int i = 0; i < 40; ++i) {
      std::string line = R"({"op":"produce","topic":"c","records":[{"key":"k)" + std::to_string(i % 4) +
                         R"(","value":")" + std::to_string(i) + R"("}]})";
      REQUIRE(h.json(line)["ok"] == true);
    }
    auto* log = h.logs().log("c", PartitionId(0));
    REQUIRE(log->segment_count() > 2);
    h.ctx().compactor->tick();
    CHECK_FALSE(h.ctx().compactor->in_flight());
    CHECK(log->cleaner().runs == 1);
    CHECK(log->log_end() == Offset(40));
    // Offset 0 was superseded: the fetch starts at the first survivor.
    auto r = h.call(R"({"op":"fetch","topic":"c","partition":0,"offset":0,"max_bytes":1})");
    REQUIRE(r);
    std::string body = r->substr(r->find('\n') + 1);
    json batch = json::parse(body.substr(0, body.find('\n')));
    CHECK(batch["base"].get<int64_t>() > 0);
    json d = h.json(R"({"op":"describe_topic","topic":"c"})");
    CHECK(d["partitions"][0]["cleaner"]["compactions"] == 1);
    CHECK(d["partitions"][0]["cleaner"]["cleaned_to"].get<int64_t>() > 0);
    // Nothing dirty left: another tick does nothing.
    h.ctx().compactor->tick();
    CHECK(log->cleaner().runs == 1);
  }
}
