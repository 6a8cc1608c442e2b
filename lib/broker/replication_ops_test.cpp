// The leader's side of replication through the request router: follower
// fetches move the high watermark, consumers see only what is below it,
// acks=all answers once the ISR has the batch, stale and future leader
// epochs are refused, offsets_for_epoch answers where an epoch ended, and a
// stale leader closes an acks=0 producer's connection.
#include <doctest/doctest.h>

#include "broker/broker_test_util.h"
#include "broker/replica_manager.h"
#include "storage/partition_log.h"

namespace kreek::broker {
namespace {

using testing::error_code;
using testing::Harness;
using nlohmann::json;

// Makes this broker lead t/0 at `epoch` with `isr` (and replicas = isr + 9).
void lead(Harness& h, int32_t epoch, std::vector<NodeId> isr) {
  PartitionState& ps = h.ctx().partitions.mutable_state("t", PartitionId(0));
  ps.leader = h.ctx().partitions.self();
  ps.epoch = LeaderEpoch(epoch);
  ps.isr = isr;
  ps.replicas = isr;
  ps.replicas.push_back(NodeId(9));
  ps.partition_epoch = epoch;
  h.ctx().replicas->on_metadata();
}

std::string produce(int acks, const std::string& value) {
  return R"({"op":"produce","id":1,"topic":"t","partition":0,"acks":)" + std::to_string(acks) +
         R"(,"records":[{"value":")" + value + R"("}]})";
}

std::string follower_fetch(int node, int64_t offset, int epoch) {
  return R"({"op":"fetch","id":2,"replica":)" + std::to_string(node) + R"(,"parts":[{"topic":"t","partition":0,"offset":)" +
         std::to_string(offset) + R"(,"leader_epoch":)" + std::to_string(epoch) + "}]}";
}

TEST_SUITE("broker") {
  TEST_CASE("acks=all answers once every ISR member has fetched past the batch") {
    Harness h;
    REQUIRE(h.json(R"({"op":"create_topic","id":1,"topic":"t","partitions":1})")["ok"] == true);
    NodeId self = h.ctx().partitions.self();
    lead(h, 3, {self, NodeId(2)});

    auto pending = h.send(produce(-1, "a"));
    CHECK(pending->replies.empty());  // waits for node 2
    // Consumers see nothing yet: the high watermark is still 0.
    json c = h.json(R"({"op":"fetch","id":3,"topic":"t","partition":0,"offset":0})");
    CHECK(c["parts"][0]["hw"] == 0);
    CHECK(c["parts"][0]["bytes"] == 0);
    json latest = h.json(R"({"op":"list_offsets","id":4,"topic":"t","at":"latest"})");
    CHECK(latest["partitions"][0]["offset"] == 0);

    // The follower's first fetch (offset 0) gets the batch; the next (offset 1) proves it has it.
    auto first = h.call(follower_fetch(2, 0, 3));
    REQUIRE(first.has_value());
    json head = json::parse(first->substr(0, first->find('\n')));
    CHECK(head["parts"][0]["log_end"] == 1);
    CHECK(head["parts"][0]["bytes"].get<int64_t>() > 0);
    CHECK(pending->replies.empty());
    h.call(follower_fetch(2, 1, 3));
    REQUIRE(pending->replies.size() == 1);
    json ack = json::parse(pending->replies[0]->head);
    CHECK(ack["ok"] == true);
    CHECK(ack["base"] == 0);
    c = h.json(R"({"op":"fetch","id":5,"topic":"t","partition":0,"offset":0})");
    CHECK(c["parts"][0]["hw"] == 1);
    CHECK(c["parts"][0]["bytes"].get<int64_t>() > 0);
  }

  TEST_CASE("acks=all times out with REQUEST_TIMED_OUT when a follower never fetches") {
    Harness h;
    REQUIRE(h.json(R"({"op":"create_topic","id":1,"topic":"t","partitions":1})")["ok"] == true);
    lead(h, 1, {h.ctx().partitions.self(), NodeId(2)});
    auto pending = h.send(R"({"op":"produce","id":1,"topic":"t","partition":0,"acks":"all","timeout_ms":0,"records":[{"value":"a"}]})");
    CHECK(pending->replies.empty());
    h.ctx().replicas->tick();
    REQUIRE(pending->replies.size() == 1);
    CHECK(error_code(json::parse(pending->replies[0]->head)) == "REQUEST_TIMED_OUT");
  }

  TEST_CASE("acks=all is refused up front when the ISR is below min.insync.replicas") {
    Harness h;
    REQUIRE(h.json(R"({"op":"create_topic","id":1,"topic":"t","partitions":1,"config":{"min.insync.replicas":"2"}})")["ok"] == true);
    lead(h, 1, {h.ctx().partitions.self()});
    CHECK(error_code(h.json(produce(-1, "a"))) == "NOT_ENOUGH_REPLICAS");
    CHECK(h.json(produce(1, "a"))["ok"] == true);
  }

  TEST_CASE("a lone in-sync replica commits at once: acks=all is acks=1") {
    Harness h;
    REQUIRE(h.json(R"({"op":"create_topic","id":1,"topic":"t","partitions":1})")["ok"] == true);
    CHECK(h.json(produce(-1, "a"))["ok"] == true);
    json c = h.json(R"({"op":"fetch","id":3,"topic":"t","partition":0,"offset":0})");
    CHECK(c["parts"][0]["hw"] == 1);
  }

  TEST_CASE("stale and future leader epochs are refused") {
    Harness h;
    REQUIRE(h.json(R"({"op":"create_topic","id":1,"topic":"t","partitions":1})")["ok"] == true);
    lead(h, 5, {h.ctx().partitions.self(), NodeId(2)});
    auto stale = h.call(follower_fetch(2, 0, 4));
    CHECK(error_code(json::parse(stale->substr(0, stale->find('\n')))["parts"][0]) == "FENCED_EPOCH");
    auto future = h.call(follower_fetch(2, 0, 6));
    CHECK(error_code(json::parse(future->substr(0, future->find('\n')))["parts"][0]) == "UNKNOWN_LEADER_EPOCH");
    CHECK(error_code(h.json(R"({"op":"produce","id":1,"topic":"t","partition":0,"leader_epoch":4,"records":[{"value":"a"}]})")) ==
          "FENCED_EPOCH");
    CHECK(h.json(R"({"op":"produce","id":1,"topic":"t","partition":0,"leader_epoch":5,"records":[{"value":"a"}]})")["ok"] ==
          true);
  }

  TEST_CASE("offsets_for_epoch answers where an epoch ended in the leader's log") {
    Harness h;
    REQUIRE(h.json(R"({"op":"create_topic","id":1,"topic":"t","partitions":1})")["ok"] == true);
    NodeId self = h.ctx().partitions.self();
    lead(h, 1, {self});
    for (int i = 0; i < 3; ++i) REQUIRE(h.json(produce(1, "e1"))["ok"] == true);
    lead(h, 4, {self});
    REQUIRE(h.json(produce(1, "e4"))["ok"] == true);
    json r = h.json(R"({"op":"offsets_for_epoch","id":1,"parts":[{"topic":"t","partition":0,"leader_epoch":4,"epoch":2}]})");
    REQUIRE(r["ok"] == true);
    CHECK(r["parts"][0]["epoch"] == 1);
    CHECK(r["parts"][0]["end_offset"] == 3);
    r = h.json(R"({"op":"offsets_for_epoch","id":1,"parts":[{"topic":"t","partition":0,"epoch":4}]})");
    CHECK(r["parts"][0]["epoch"] == 4);
    CHECK(r["parts"][0]["end_offset"] == 4);
    r = h.json(R"({"op":"offsets_for_epoch","id":1,"parts":[{"topic":"t","partition":0,"leader_epoch":3,"epoch":1}]})");
    CHECK(error_code(r["parts"][0]) == "FENCED_EPOCH");
  }

  TEST_CASE("a broker that does not lead closes an acks=0 producer's connection") {
    Harness h;
    REQUIRE(h.json(R"({"op":"create_topic","id":1,"topic":"t","partitions":1})")["ok"] == true);
    PartitionState& ps = h.ctx().partitions.mutable_state("t", PartitionId(0));
    ps.leader = NodeId(7);
    auto sink = h.send(produce(0, "lost?"));
    REQUIRE(sink->replies.size() == 1);
    CHECK_FALSE(sink->replies[0].has_value());
    CHECK_FALSE(sink->open);
  }

  TEST_CASE("a consumer between the high watermark and the log end waits instead of failing") {
    Harness h;
    REQUIRE(h.json(R"({"op":"create_topic","id":1,"topic":"t","partitions":1})")["ok"] == true);
    lead(h, 1, {h.ctx().partitions.self(), NodeId(2)});
    REQUIRE(h.json(produce(1, "a"))["ok"] == true);
    REQUIRE(h.json(produce(1, "b"))["ok"] == true);
    json c = h.json(R"({"op":"fetch","id":3,"topic":"t","partition":0,"offset":1})");
    CHECK(error_code(c["parts"][0]) == "");
    CHECK(c["parts"][0]["bytes"] == 0);
    c = h.json(R"({"op":"fetch","id":3,"topic":"t","partition":0,"offset":3})");
    CHECK(error_code(c["parts"][0]) == "OFFSET_OUT_OF_RANGE");
  }
}

}  // namespace
}  // namespace kreek::broker
