// describe_topic of a big topic is built a slice per loop turn: other
// requests are answered in between, and the answer is the same as at once.
#include <doctest/doctest.h>

#include "base/clock.h"
#include "broker/broker_test_util.h"
#include "broker/describe_sliced.h"
#include "net/net.h"

using namespace kreek;
using namespace kreek::broker;
using kreek::broker::testing::Harness;
using nlohmann::json;

TEST_SUITE("broker") {
  TEST_CASE("describe_topic of a big topic answers in slices, other requests in between") {
    auto loop = net::EventLoop::create();
    Harness h({}, loop.get());
    constexpr int kParts = kDescribeSlice + 40;
    (void)h.json(R"({"op":"create_topic","topic":"big","partitions":)" + std::to_string(kParts) + "}");
    auto described = h.send(R"({"op":"describe_topic","id":9,"topic":"big"})");
    CHECK(described->replies.empty());  // the first slice only
    CHECK(h.json(R"({"op":"hello"})")["ok"] == true);  // not held behind it
    auto timer = loop->make_timer();
    int64_t deadline = clock::monotonic_ms() + 5000;
    timer->start(0, 1, [&] {
      if (!described->replies.empty() || clock::monotonic_ms() > deadline) loop->stop();
    });
    CHECK(loop->run() == 0);
    REQUIRE(described->replies.size() == 1);
    const std::string& head = described->replies[0]->head;
    json answer = json::parse(head.substr(0, head.find('\n')));
    CHECK(answer["id"] == 9);
    CHECK(answer["topic"] == "big");
    REQUIRE(answer["partitions"].size() == kParts);
    for (int p = 0; p < kParts; ++p) CHECK(answer["partitions"][p]["partition"] == p);
    CHECK(answer.contains("config"));
  }
}
