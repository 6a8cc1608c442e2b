// The rebalance planner: even replicas and preferred leaders over the live
// brokers, with the fewest replica moves, never two replicas of a partition
// on one broker, and racks kept apart when brokers have them.
#include "cli/rebalance_plan.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <set>

namespace kreek::cli {
namespace {

std::vector<NodeId> ids(std::initializer_list<int> v) {
  std::vector<NodeId> out;
  for (int n : v) out.push_back(NodeId(n));
  return out;
}

std::vector<PlanBroker> brokers(std::initializer_list<int> v, std::vector<std::string> racks = {}) {
  std::vector<PlanBroker> out;
  size_t i = 0;
  for (int n : v) out.push_back(PlanBroker{NodeId(n), i < racks.size() ? racks[i++] : ""});
  return out;
}

std::vector<PlanPartition> topic(const std::string& name, int count, std::vector<NodeId> replicas) {
  std::vector<PlanPartition> out;
  for (int p = 0; p < count; ++p) out.push_back(PlanPartition{name, p, replicas});
  return out;
}

// The partitions as the plan leaves them.
std::vector<PlanPartition> after(std::vector<PlanPartition> parts, const RebalancePlan& plan) {
  for (auto& p : parts)
    for (const auto& m : plan.moves)
      if (m.topic == p.topic && m.partition == p.partition) {
        CHECK(m.from == p.replicas);
        p.replicas = m.to;
      }
  return parts;
}

TEST_SUITE("cli") {
  TEST_CASE("rebalance spreads replicas and preferred leaders evenly over new brokers") {
    auto parts = topic("orders", 6, ids({1}));
    RebalancePlan plan = plan_rebalance(brokers({1, 2, 3}), parts);
    CHECK(plan.replica_moves == 4);
    CHECK(plan.moves.size() == 4);
    CHECK(plan.replicas_before == std::map<int32_t, int>{{1, 6}, {2, 0}, {3, 0}});
    CHECK(plan.replicas_after == std::map<int32_t, int>{{1, 2}, {2, 2}, {3, 2}});
    CHECK(plan.leaders_after == std::map<int32_t, int>{{1, 2}, {2, 2}, {3, 2}});
    for (const auto& p : after(parts, plan)) CHECK(p.replicas.size() == 1);
  }

  TEST_CASE("rebalance moves only the excess of each broker") {
    // 6 partitions x 2 replicas even over 3 brokers, then a fourth joins:
    // 12 replicas -> 3 each, so exactly 3 replicas move, all to node 4.
    std::vector<PlanPartition> parts;
    const std::vector<std::vector<NodeId>> lists = {ids({1, 2}), ids({2, 3}), ids({3, 1}),
                                                    ids({1, 3}), ids({2, 1}), ids({3, 2})};
    for (int p = 0; p < 6; ++p) parts.push_back(PlanPartition{"t", p, lists[p]});
    RebalancePlan plan = plan_rebalance(brokers({1, 2, 3, 4}), parts);
    CHECK(plan.replica_moves == 3);
    CHECK(plan.replicas_after == std::map<int32_t, int>{{1, 3}, {2, 3}, {3, 3}, {4, 3}});
    for (const auto& p : after(parts, plan)) {
      CHECK(std::set<NodeId>(p.replicas.begin(), p.replicas.end()).size() == p.replicas.size());
    }
    for (const auto& [node, leads] : plan.leaders_after) {
      CAPTURE(node);
      CHECK(leads >= 1);
      CHECK(leads <= 2);
    }
  }

  TEST_CASE("an even cluster needs no moves") {
    std::vector<PlanPartition> parts = {{"t", 0, ids({1, 2})}, {"t", 1, ids({2, 3})}, {"t", 2, ids({3, 1})}};
    RebalancePlan plan = plan_rebalance(brokers({1, 2, 3}), parts);
    CHECK(plan.moves.empty());
    CHECK(plan.replica_moves == 0);
    CHECK(plan_text(plan).find("nothing to move") == 0);
  }

  TEST_CASE("preferred leaders are evened by reordering, without moving data") {
    auto parts = topic("t", 4, ids({1, 2}));
    RebalancePlan plan = plan_rebalance(brokers({1, 2}), parts);
    CHECK(plan.replica_moves == 0);
    CHECK(plan.moves.size() == 2);
    CHECK(plan.leaders_after == std::map<int32_t, int>{{1, 2}, {2, 2}});
  }

  TEST_CASE("replicas on brokers that are gone move to live ones") {
    std::vector<PlanPartition> parts = {{"t", 0, ids({9})}, {"t", 1, ids({1, 9})}};
    RebalancePlan plan = plan_rebalance(brokers({1, 2}), parts);
    for (const auto& p : after(parts, plan))
      for (NodeId n : p.replicas) CHECK((n == NodeId(1) || n == NodeId(2)));
    CHECK(plan.replicas_after[1] + plan.replicas_after[2] == 3);
    CHECK(std::abs(plan.replicas_after[1] - plan.replicas_after[2]) <= 1);
  }

  TEST_CASE("with racks set, no move puts two replicas of a partition on one rack") {
    // Racks a: 1, 2; b: 3, 4. Every partition starts on 1 (a) and 3 (b).
    auto live = brokers({1, 2, 3, 4}, {"a", "a", "b", "b"});
    auto parts = topic("t", 4, ids({1, 3}));
    RebalancePlan plan = plan_rebalance(live, parts);
    CHECK(plan.replicas_after == std::map<int32_t, int>{{1, 2}, {2, 2}, {3, 2}, {4, 2}});
    std::map<int32_t, std::string> rack = {{1, "a"}, {2, "a"}, {3, "b"}, {4, "b"}};
    for (const auto& p : after(parts, plan)) {
      CAPTURE(p.partition);
      CHECK(rack[p.replicas[0].value()] != rack[p.replicas[1].value()]);
    }
  }

  TEST_CASE("the plan prints as text and JSON") {
    RebalancePlan plan = plan_rebalance(brokers({1, 2}), topic("orders", 2, ids({1})));
    std::string text = plan_text(plan);
    CHECK(text.find("plan over brokers 1,2: 1 partition, 1 replica move\n") == 0);
    CHECK(text.find("  orders/0  1 -> 2\n") != std::string::npos);
    CHECK(text.find("replicas per broker:  1:2 2:0  ->  1:1 2:1\n") != std::string::npos);
    proto::Json j = plan_to_json(plan);
    CHECK(j["moves"][0]["topic"] == "orders");
    CHECK(j["moves"][0]["to"] == proto::Json::array({2}));
    CHECK(j["replicas_after"]["2"] == 1);
  }
}

}  // namespace
}  // namespace kreek::cli
