// Fetch amplification limits: no partition named twice, max_bytes across the
// whole request, a cap on parts per fetch and on parked long polls per
// connection, and an append that wakes parked fetches without re-reading
// every part of each.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "broker/broker_test_util.h"
#include "broker/fetch_purgatory.h"
#include "net/net.h"

using namespace kreek;
using namespace kreek::broker;
using kreek::broker::testing::Harness;
using nlohmann::json;

namespace {
std::string code_of(const json& j) { return j.value("error", json::object()).value("code", std::string()); }

std::string parts_of(const std::string& topic, int n, int64_t offset) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) {
    if (i > 0) s += ',';
    s += R"({"topic":")" + topic + R"(","partition":)" + std::to_string(i) + R"(,"offset":)" +
         std::to_string(offset) + "}";
  }
  return s + "]";
}
}  // namespace

TEST_SUITE("broker") {
  TEST_CASE("a fetch naming one partition twice is INVALID_REQUEST") {
    Harness h;
    (void)h.json(R"({"op":"produce","topic":"t","records":[{"value":"a"}]})");
    json r = h.json(
        R"({"op":"fetch","max_bytes":1,"parts":[{"topic":"t","partition":0,"offset":0},{"topic":"t","partition":0,"offset":0}]})");
    CHECK(code_of(r) == "INVALID_REQUEST");
    CHECK(r["error"]["message"] == "parts[1]: t/0 is named more than once");
  }

  TEST_CASE("max_bytes holds across the parts of one fetch") {
    Harness h;
    (void)h.json(R"({"op":"create_topic","topic":"t","partitions":3})");
    for (int p = 0; p < 3; ++p)
      (void)h.json(R"({"op":"produce","topic":"t","partition":)" + std::to_string(p) +
                   R"(,"records":[{"value":"0123456789"}]})");
    auto r = h.call(R"({"op":"fetch","max_bytes":1,"parts":)" + parts_of("t", 3, 0) + "}");
    REQUIRE(r);
    size_t nl = r->find('\n');
    json head = json::parse(r->substr(0, nl));
    REQUIRE(head["parts"].size() == 3);
    // One batch moves (it is larger than max_bytes), the other parts wait for the next fetch.
    CHECK(head["parts"][0]["bytes"].get<int64_t>() > 0);
    CHECK(head["parts"][1]["bytes"] == 0);
    CHECK(head["parts"][2]["bytes"] == 0);
    CHECK(head["parts"][0]["bytes"].get<size_t>() == r->size() - nl - 1);
    // Unread is not empty: no "next", which would move a consumer past records.
    CHECK_FALSE(head["parts"][0].contains("next"));
    CHECK_FALSE(head["parts"][1].contains("next"));
    CHECK_FALSE(head["parts"][2].contains("next"));
  }

  TEST_CASE("a fetch naming more than max_fetch_parts partitions is INVALID_REQUEST") {
    BrokerConfig c;
    c.max_fetch_parts = 2;
    Harness h(c);
    (void)h.json(R"({"op":"create_topic","topic":"t","partitions":3})");
    json r = h.json(R"({"op":"fetch","parts":)" + parts_of("t", 3, 0) + "}");
    CHECK(code_of(r) == "INVALID_REQUEST");
    CHECK(r["error"]["message"] == "a fetch may name at most 2 partitions (3 given)");
    CHECK(h.json(R"({"op":"fetch","parts":)" + parts_of("t", 2, 0) + "}")["ok"] == true);
  }

  TEST_CASE("long polls beyond max_parked_fetches_per_connection are answered at once") {
    auto loop = net::EventLoop::create();
    BrokerConfig c;
    c.max_parked_fetches_per_connection = 2;
    Harness h(c, loop.get());
    (void)h.json(R"({"op":"create_topic","topic":"t"})");
    const std::string poll = R"({"op":"fetch","topic":"t","partition":0,"offset":0,"max_wait_ms":30000})";
    auto a = h.send(poll, "10.0.0.1:1");
    auto b = h.send(poll, "10.0.0.1:1");
    auto over = h.send(poll, "10.0.0.1:1");
    auto other = h.send(poll, "10.0.0.2:1");
    CHECK(a->replies.empty());
    CHECK(b->replies.empty());
    REQUIRE(over->replies.size() == 1);  // answered with what there is: nothing
    CHECK(over->replies[0]->head.find(R"("bytes":0)") != std::string::npos);
    CHECK(other->replies.empty());  // another connection still parks
    CHECK(h.ctx().purgatory->size() == 3);
    h.ctx().purgatory->complete_all();
    CHECK(a->replies.size() == 1);
    loop->stop();
    (void)loop->run();
  }

  TEST_CASE("an append re-reads one part of each parked fetch, not all of them") {
    auto loop = net::EventLoop::create();
    Harness h({}, loop.get());
    // 200 partitions keep the active segments within a 1024-descriptor limit.
    constexpr int kParts = 200, kFetches = 20, kAppends = 50;
    (void)h.json(R"({"op":"create_topic","topic":"wide","partitions":)" + std::to_string(kParts) + "}");
    // min_bytes far above what arrives: they stay parked through every append.
    const std::string poll = R"({"op":"fetch","max_wait_ms":30000,"min_bytes":100000000,"parts":)" +
                             parts_of("wide", kParts, 0) + "}";
    std::vector<std::shared_ptr<ReplySink>> polls;
    for (int i = 0; i < kFetches; ++i) polls.push_back(h.send(poll));
    REQUIRE(h.ctx().purgatory->size() == kFetches);
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kAppends; ++i)
      (void)h.json(R"({"op":"produce","topic":"wide","partition":7,"records":[{"value":"x"}]})");
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    // Re-reading every part was 50 x 20 x 200 part reads (seconds); now 50 x 20.
    CHECK(ms < 500);
    CHECK(h.ctx().purgatory->size() == kFetches);
    // A small min_bytes is woken by the next append, with that part's data.
    auto small = h.send(R"({"op":"fetch","max_wait_ms":30000,"parts":[{"topic":"wide","partition":3,"offset":0},{"topic":"wide","partition":8,"offset":0}]})");
    CHECK(small->replies.empty());
    (void)h.json(R"({"op":"produce","topic":"wide","partition":8,"records":[{"value":"y"}]})");
    REQUIRE(small->replies.size() == 1);
    json head = json::parse(small->replies[0]->head.substr(0, small->replies[0]->head.find('\n')));
    CHECK(head["parts"][0]["bytes"] == 0);
    CHECK(head["parts"][1]["bytes"].get<int64_t>() > 0);
    h.ctx().purgatory->complete_all();
    for (auto& p : polls) CHECK(p->replies.size() == 1);
    loop->stop();
    (void)loop->run();
  }
}
