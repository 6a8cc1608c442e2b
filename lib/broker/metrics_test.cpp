// The metrics registry and its exports, driven through the router without
// sockets: requests, errors and latency by op, traffic per topic, the
// Prometheus text's shape and the metrics op's JSON.
#include "broker/metrics.h"

#include <doctest/doctest.h>

#include <string>

#include "broker/broker_test_util.h"
#include "broker/metrics_export.h"
#include "proto/record.h"

using namespace kreek;
using namespace kreek::broker;
using kreek::broker::testing::error_code;
using kreek::broker::testing::Harness;
using nlohmann::json;

namespace {

bool contains(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

}  // namespace

TEST_SUITE("broker") {
  TEST_CASE("a histogram counts into cumulative buckets and estimates quantiles by bucket bound") {
    Histogram h;
    CHECK(h.quantile_us(0.5) == -1);
    for (int i = 0; i < 90; ++i) h.observe_us(40);      // <= 50us
    for (int i = 0; i < 10; ++i) h.observe_us(3'000);   // <= 5ms
    h.observe_us(-5);                                   // clock went back: counts as 0
    CHECK(h.count() == 101);
    CHECK(h.cumulative(0) == 91);
    CHECK(h.cumulative(5) == 91);  // 2.5ms
    CHECK(h.cumulative(6) == 101);  // 5ms
    CHECK(h.cumulative(Histogram::kBoundsUs.size()) == 101);
    CHECK(h.sum_us() == 90 * 40 + 10 * 3'000);
    CHECK(h.quantile_us(0.5) == 50);
    CHECK(h.quantile_us(0.99) == 5'000);
    h.observe_us(60'000'000);  // past the last bound: only in +Inf
    CHECK(h.cumulative(Histogram::kBoundsUs.size() - 1) == 101);
    CHECK(h.cumulative(Histogram::kBoundsUs.size()) == 102);
  }

  TEST_CASE("unregistered op names count as unknown, so clients cannot add series") {
    Metrics m;
    m.add_op("produce");
    m.add_op("produce");
    CHECK(&m.op("produce") == &m.op("produce"));
    CHECK(m.op("produce").name == "produce");
    CHECK(m.op("no_such_op").name == "unknown");
    CHECK(m.op("").name == "unknown");
    CHECK(m.ops().size() == 2);
  }

  TEST_CASE("requests, errors, latency and topic traffic reach /metrics and the metrics op") {
    Harness h;
    REQUIRE(h.json(R"({"op":"create_topic","topic":"orders","partitions":2})")["ok"] == true);
    std::string recs = R"([{"key":"k","value":"a"},{"key":"k","value":"b"},{"key":"k","value":"c"}])";
    auto r = h.json(R"({"op":"produce","topic":"orders","partition":1,"records":)" + recs + "}");
    REQUIRE(r["ok"] == true);
    REQUIRE(h.call(R"({"op":"fetch","topic":"orders","partition":1,"offset":0})"));
    CHECK(error_code(h.json(R"({"op":"nope"})")) == "INVALID_REQUEST");
    CHECK(error_code(h.json(R"({"op":"describe_topic","topic":"missing"})")) == "UNKNOWN_TOPIC");

    Metrics& m = h.ctx().metrics;
    CHECK(m.op("produce").requests == 1);
    CHECK(m.op("produce").latency.count() == 1);
    CHECK(m.op("fetch").latency.count() == 1);
    CHECK(m.op("unknown").errors[Code::kInvalidRequest] == 1);
    CHECK(m.op("describe_topic").errors[Code::kUnknownTopic] == 1);
    CHECK(m.topic("orders").records_in == 3);
    CHECK(m.topic("orders").bytes_in == recs.size());
    CHECK(m.topic("orders").records_out == 3);
    CHECK(m.topic("orders").bytes_out >= recs.size());

    std::string text = to_prometheus(collect_metrics(h.ctx()));
    CHECK(contains(text, "# TYPE kreek_requests_total counter"));
    CHECK(contains(text, R"(kreek_requests_total{op="produce"} 1)"));
    CHECK(contains(text, R"(kreek_request_errors_total{op="describe_topic",code="UNKNOWN_TOPIC"} 1)"));
    CHECK(contains(text, R"(kreek_topic_records_in_total{topic="orders"} 3)"));
    CHECK(contains(text, R"(kreek_partitions{topic="orders"} 2)"));
    CHECK(contains(text, R"(kreek_leader_partitions{topic="orders"} 2)"));
    CHECK(contains(text, R"(kreek_request_duration_seconds_bucket{op="produce",le="+Inf"} 1)"));
    CHECK(contains(text, R"(kreek_request_duration_seconds_count{op="produce"} 1)"));
    CHECK(text.find(R"(le="0.00005")") != std::string::npos);
    CHECK(contains(text, "kreek_under_replicated_partitions 0"));
    CHECK(text.back() == '\n');

    json j = h.json(R"({"op":"metrics","id":9})");
    REQUIRE(j["ok"] == true);
    CHECK(j["ready"] == true);
    bool found = false;
    for (const json& f : j["metrics"]) {
      if (f["name"] != "kreek_topic_records_in_total") continue;
      CHECK(f["type"] == "counter");
      CHECK(f["samples"][0]["labels"]["topic"] == "orders");
      CHECK(f["samples"][0]["value"] == 3);
      found = true;
    }
    CHECK(found);

    // A deleted topic's series go with it.
    REQUIRE(h.json(R"({"op":"delete_topic","topic":"orders"})")["ok"] == true);
    CHECK(to_prometheus(collect_metrics(h.ctx())).find("orders") == std::string::npos);
  }
}
