// The rebalance planner; see rebalance_plan.h. Greedy, and deterministic for
// the same input: each replica move takes one replica from the most loaded
// broker to the least loaded one that can take it, which is the fewest moves
// that can even the counts (every broker above its share gives exactly its
// excess); leadership is then evened by reordering only, which moves no data.
#include "cli/rebalance_plan.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace kreek::cli {
namespace {

bool has(const std::vector<NodeId>& v, NodeId n) { return std::find(v.begin(), v.end(), n) != v.end(); }

class Planner {
 public:
  Planner(const std::vector<PlanBroker>& live, std::vector<PlanPartition> parts)
      : parts_(std::move(parts)) {
    for (const auto& b : live) {
      rack_[b.node.value()] = b.rack;
      if (!b.rack.empty()) racks_.insert(b.rack);
      count_[b.node.value()] = 0;
      leads_[b.node.value()] = 0;
    }
    for (const auto& p : parts_) {
      for (NodeId n : p.replicas)
        if (is_live(n)) ++count_[n.value()];
      if (!p.replicas.empty() && is_live(p.replicas[0])) ++leads_[p.replicas[0].value()];
    }
  }

  std::vector<PlanPartition> run() {
    place_orphans();
    even_replicas();
    even_leaders();
    return std::move(parts_);
  }

 private:
  bool is_live(NodeId n) const { return rack_.count(n.value()) != 0; }

  // May `to` take the replica at `index` of `p`? Not if it already holds one,
  // nor if its rack is another replica's while there are racks enough to
  // give each replica its own.
  bool fits(const PlanPartition& p, size_t index, NodeId to) const {
    if (has(p.replicas, to)) return false;
    const std::string& rack = rack_.at(to.value());
    if (rack.empty() || racks_.size() < p.replicas.size()) return true;
    for (size_t i = 0; i < p.replicas.size(); ++i) {
      if (i == index || !is_live(p.replicas[i])) continue;
      if (rack_.at(p.replicas[i].value()) == rack) return false;
    }
    return true;
  }

  void move(PlanPartition& p, size_t index, NodeId to) {
    NodeId from = p.replicas[index];
    if (is_live(from)) --count_[from.value()];
    ++count_[to.value()];
    if (index == 0) {
      if (is_live(from)) --leads_[from.value()];
      ++leads_[to.value()];
    }
    p.replicas[index] = to;
  }

  // Live brokers, least loaded first (by replicas, then id).
  std::vector<NodeId> by_load() const {
    std::vector<NodeId> out;
    for (const auto& [id, c] : count_) out.push_back(NodeId(id));
    std::stable_sort(out.begin(), out.end(),
                     [&](NodeId a, NodeId b) { return count_.at(a.value()) < count_.at(b.value()); });
    return out;
  }

  // Replicas on brokers that are not live go to the least loaded that fits.
  void place_orphans() {
    for (auto& p : parts_)
      for (size_t i = 0; i < p.replicas.size(); ++i) {
        if (is_live(p.replicas[i])) continue;
        for (NodeId to : by_load())
          if (fits(p, i, to)) {
            move(p, i, to);
            break;
          }
      }
  }

  // One replica from the most loaded broker to the least loaded one that can
  // take it, while counts differ by two or more. Followers move before
  // preferred leaders, so leadership changes as little as it can.
  void even_replicas() {
    for (;;) {
      std::vector<NodeId> order = by_load();
      bool moved = false;
      for (auto donor = order.rbegin(); donor != order.rend() && !moved; ++donor)
        for (NodeId taker : order) {
          if (count_[donor->value()] - count_[taker.value()] < 2) break;
          if (try_move(*donor, taker)) {
            moved = true;
            break;
          }
        }
      if (!moved) return;
    }
  }

  bool try_move(NodeId donor, NodeId taker) {
    for (bool leaders : {false, true})
      for (auto& p : parts_)
        for (size_t i = 0; i < p.replicas.size(); ++i) {
          if ((i == 0) != leaders || p.replicas[i] != donor || !fits(p, i, taker)) continue;
          move(p, i, taker);
          return true;
        }
    return false;
  }

  // Preferred leadership from the broker that leads most to one that leads
  // least and holds a replica of the partition: the two swap places in its
  // replica list.
  void even_leaders() {
    for (;;) {
      std::vector<NodeId> order;
      for (const auto& [id, c] : leads_) order.push_back(NodeId(id));
      std::stable_sort(order.begin(), order.end(),
                       [&](NodeId a, NodeId b) { return leads_.at(a.value()) < leads_.at(b.value()); });
      bool moved = false;
      for (auto donor = order.rbegin(); donor != order.rend() && !moved; ++donor)
        for (NodeId taker : order) {
          if (leads_[donor->value()] - leads_[taker.value()] < 2) break;
          for (auto& p : parts_) {
            if (p.replicas.empty() || p.replicas[0] != *donor) continue;
            auto at = std::find(p.replicas.begin(), p.replicas.end(), taker);
            if (at == p.replicas.end()) continue;
            std::iter_swap(p.replicas.begin(), at);
            --leads_[donor->value()];
            ++leads_[taker.value()];
            moved = true;
            break;
          }
          if (moved) break;
        }
      if (!moved) return;
    }
  }

  std::vector<PlanPartition> parts_;
  std::map<int32_t, std::string> rack_;  // live brokers
  std::set<std::string> racks_;
  std::map<int32_t, int> count_, leads_;
};

std::map<int32_t, int> count_of(const std::vector<PlanPartition>& parts, const std::vector<PlanBroker>& live,
                                bool leaders) {
  std::map<int32_t, int> out;
  for (const auto& b : live) out[b.node.value()] = 0;
  for (const auto& p : parts) {
    if (p.replicas.empty()) continue;
    if (leaders) {
      ++out[p.replicas[0].value()];
    } else {
      for (NodeId n : p.replicas) ++out[n.value()];
    }
  }
  return out;
}

std::string nodes_text(const std::vector<NodeId>& v) {
  std::string s;
  for (NodeId n : v) s += (s.empty() ? "" : ",") + std::to_string(n.value());
  return s.empty() ? "-" : s;
}

std::string counts_text(const std::map<int32_t, int>& m) {
  std::string s;
  for (const auto& [id, c] : m) s += (s.empty() ? "" : " ") + std::to_string(id) + ":" + std::to_string(c);
  return s;
}

proto::Json counts_json(const std::map<int32_t, int>& m) {
  proto::Json out = proto::Json::object();
  for (const auto& [id, c] : m) out[std::to_string(id)] = c;
  return out;
}

proto::Json nodes_json(const std::vector<NodeId>& v) {
  proto::Json out = proto::Json::array();
  for (NodeId n : v) out.push_back(n.value());
  return out;
}

}  // namespace

RebalancePlan plan_rebalance(const std::vector<PlanBroker>& live, const std::vector<PlanPartition>& partitions) {
  std::vector<PlanPartition> sorted = partitions;
  std::sort(sorted.begin(), sorted.end(), [](const PlanPartition& a, const PlanPartition& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });
  std::vector<PlanBroker> brokers = live;
  std::sort(brokers.begin(), brokers.end(), [](const PlanBroker& a, const PlanBroker& b) { return a.node < b.node; });

  RebalancePlan plan;
  for (const auto& b : brokers) plan.brokers.push_back(b.node);
  plan.replicas_before = count_of(sorted, brokers, false);
  plan.leaders_before = count_of(sorted, brokers, true);
  std::vector<PlanPartition> after = Planner(brokers, sorted).run();
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (after[i].replicas == sorted[i].replicas) continue;
    for (NodeId n : after[i].replicas)
      if (!has(sorted[i].replicas, n)) ++plan.replica_moves;
    plan.moves.push_back(PlanMove{sorted[i].topic, sorted[i].partition, sorted[i].replicas, after[i].replicas});
  }
  plan.replicas_after = count_of(after, brokers, false);
  plan.leaders_after = count_of(after, brokers, true);
  return plan;
}

proto::Json plan_to_json(const RebalancePlan& plan) {
  proto::Json moves = proto::Json::array();
  for (const auto& m : plan.moves)
    moves.push_back({{"topic", m.topic}, {"partition", m.partition}, {"from", nodes_json(m.from)},
                     {"to", nodes_json(m.to)}});
  return {{"brokers", nodes_json(plan.brokers)},
          {"moves", std::move(moves)},
          {"replica_moves", plan.replica_moves},
          {"replicas_before", counts_json(plan.replicas_before)},
          {"replicas_after", counts_json(plan.replicas_after)},
          {"leaders_before", counts_json(plan.leaders_before)},
          {"leaders_after", counts_json(plan.leaders_after)}};
}

std::string plan_text(const RebalancePlan& plan) {
  std::string out;
  if (plan.moves.empty()) {
    out += "nothing to move: replicas and preferred leaders are even over brokers " + nodes_text(plan.brokers) + "\n";
  } else {
    out += "plan over brokers " + nodes_text(plan.brokers) + ": " + std::to_string(plan.moves.size()) +
           (plan.moves.size() == 1 ? " partition, " : " partitions, ") + std::to_string(plan.replica_moves) +
           (plan.replica_moves == 1 ? " replica move\n" : " replica moves\n");
    for (const auto& m : plan.moves)
      out += "  " + m.topic + "/" + std::to_string(m.partition) + "  " + nodes_text(m.from) + " -> " +
             nodes_text(m.to) + "\n";
  }
  out += "replicas per broker:  " + counts_text(plan.replicas_before) + "  ->  " + counts_text(plan.replicas_after) + "\n";
  out += "preferred leaders:    " + counts_text(plan.leaders_before) + "  ->  " + counts_text(plan.leaders_after) + "\n";
  return out;
}

}  // namespace kreek::cli
