// The asynchronous paths with a real event loop: long-poll fetches parked and
// woken by appends or deadlines, and group-commit acknowledgements that wait
// for the worker thread's fsync.
#include <doctest/doctest.h>

#include "base/clock.h"
#include "broker/broker_test_util.h"
#include "broker/fetch_purgatory.h"
#include "broker/flush_scheduler.h"
#include "net/net.h"

using namespace kreek;
using namespace kreek::broker;
using kreek::broker::testing::Harness;
using nlohmann::json;

namespace {

// Runs `loop` until `done()` holds (checked every 2 ms) or 5 s pass, then
// stops it and checks every handle closed.
void run_until(net::EventLoop& loop, const std::function<bool()>& done) {
  auto timer = loop.make_timer();
  int64_t deadline = kreek::clock::monotonic_ms() + 5000;
  timer->start(0, 2, [&] {
    if (done() || kreek::clock::monotonic_ms() > deadline) loop.stop();
  });
  CHECK(loop.run() == 0);
}

json head_of(const ReplySink& sink) {
  REQUIRE(sink.replies.size() == 1);
  REQUIRE(sink.replies[0].has_value());
  const std::string& h = sink.replies[0]->head;
  return json::parse(h.substr(0, h.find('\n')));
}

}  // namespace

TEST_SUITE("broker") {
  TEST_CASE("a long-poll fetch at the log end is woken by an append") {
    auto loop = net::EventLoop::create();
    Harness h({}, loop.get());
    (void)h.json(R"({"op":"produce","topic":"t","records":[{"value":"a"}]})");
    auto poll = h.send(R"({"op":"fetch","id":1,"topic":"t","partition":0,"offset":1,"max_wait_ms":5000})");
    CHECK(poll->replies.empty());
    CHECK(h.ctx().purgatory->size() == 1);
    (void)h.json(R"({"op":"produce","topic":"t","records":[{"value":"b"}]})");
    json head = head_of(*poll);
    CHECK(head["parts"][0]["bytes"].get<int64_t>() > 0);
    CHECK(poll->replies[0]->ranges.size() == 1);
    CHECK(h.ctx().purgatory->size() == 0);
    run_until(*loop, [] { return true; });
  }

  TEST_CASE("a long-poll fetch answers with empty parts at its deadline") {
    auto loop = net::EventLoop::create();
    Harness h({}, loop.get());
    (void)h.json(R"({"op":"create_topic","topic":"t"})");
    int64_t start = kreek::clock::monotonic_ms();
    auto poll = h.send(R"({"op":"fetch","topic":"t","partition":0,"offset":0,"max_wait_ms":50})");
    CHECK(poll->replies.empty());
    run_until(*loop, [&] { return !poll->replies.empty(); });
    CHECK(kreek::clock::monotonic_ms() - start >= 50);
    json head = head_of(*poll);
    CHECK(head["ok"] == true);
    CHECK(head["parts"][0]["bytes"] == 0);
  }

  TEST_CASE("parked fetches of a closed connection are dropped without a response") {
    auto loop = net::EventLoop::create();
    Harness h({}, loop.get());
    (void)h.json(R"({"op":"create_topic","topic":"t"})");
    auto poll = h.send(R"({"op":"fetch","topic":"t","partition":0,"offset":0,"max_wait_ms":5000})");
    poll->open = false;
    (void)h.json(R"({"op":"produce","topic":"t","records":[{"value":"b"}]})");
    REQUIRE(poll->replies.size() == 1);
    CHECK_FALSE(poll->replies[0].has_value());
    CHECK(h.ctx().purgatory->size() == 0);
    run_until(*loop, [] { return true; });
  }

  TEST_CASE("flush.messages=1 acks come after the worker's fsync, one fsync for many") {
    auto loop = net::EventLoop::create();
    Harness h({}, loop.get());
    (void)h.json(R"({"op":"create_topic","topic":"s","config":{"flush.messages":"1"}})");
    std::vector<std::shared_ptr<ReplySink>> acks;
    for (int i = 0; i < 5; ++i)
      acks.push_back(h.send(R"({"op":"produce","topic":"s","records":[{"value":"v"}]})"));
    CHECK(acks[0]->replies.empty());  // waiting for the fsync on the worker
    CHECK(h.ctx().flusher->in_flight() == 1);
    run_until(*loop, [&] {
      for (auto& a : acks)
        if (a->replies.empty()) return false;
      return true;
    });
    for (int i = 0; i < 5; ++i) CHECK(head_of(*acks[i])["base"] == i);
    CHECK(h.logs().log("s", PartitionId(0))->recovery_point() == Offset(5));
  }

  TEST_CASE("deleting a topic answers its parked fetches with UNKNOWN_TOPIC") {
    auto loop = net::EventLoop::create();
    Harness h({}, loop.get());
    (void)h.json(R"({"op":"create_topic","topic":"t"})");
    auto poll = h.send(R"({"op":"fetch","topic":"t","partition":0,"offset":0,"max_wait_ms":5000})");
    (void)h.json(R"({"op":"delete_topic","topic":"t"})");
    json head = head_of(*poll);
    CHECK(head["parts"][0]["error"]["code"] == "UNKNOWN_TOPIC");
    run_until(*loop, [] { return true; });
  }
}
