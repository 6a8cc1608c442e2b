// Replica placement; see placement.h. The arithmetic follows Kafka's
// AdminUtils.assignReplicasToBrokers so operators who know Kafka can predict it.
#include "coord/placement.h"

#include <algorithm>
#include <map>
#include <set>

namespace kreek::coord {

std::vector<PlacementBroker> rack_alternating(std::vector<PlacementBroker> brokers) {
  std::map<std::string, std::vector<PlacementBroker>> by_rack;
  for (auto& b : brokers) by_rack[b.rack].push_back(b);
  for (auto& [rack, list] : by_rack)
    std::sort(list.begin(), list.end(),
              [](const PlacementBroker& a, const PlacementBroker& b) { return a.node < b.node; });
  std::vector<PlacementBroker> out;
  for (size_t round = 0; out.size() < brokers.size(); ++round)
    for (auto& [rack, list] : by_rack)
      if (round < list.size()) out.push_back(list[round]);
  return out;
}

Result<std::vector<std::vector<NodeId>>> place_replicas(std::vector<PlacementBroker> brokers,
                                                        int32_t first_partition, int32_t count,
                                                        int32_t replication_factor,
                                                        NodeId start_with) {
  const int32_t n = static_cast<int32_t>(brokers.size());
  if (replication_factor < 1) return invalid_request("replication factor must be at least 1");
  if (replication_factor > n)
    return invalid_request("replication factor " + std::to_string(replication_factor) +
                           " is larger than the " + std::to_string(n) + " live broker" +
                           (n == 1 ? "" : "s"));
  std::vector<PlacementBroker> order = rack_alternating(std::move(brokers));
  std::set<std::string> racks;
  for (const auto& b : order) racks.insert(b.rack);
  const size_t rack_count = racks.size();

  int32_t start = 0;
  for (int32_t i = 0; i < n; ++i)
    if (order[i].node == start_with) start = i;
  // Kafka: the follower shift grows by one each time the partitions have gone
  // once round the brokers, so the same pairs do not repeat.
  int32_t shift = first_partition / n;
  auto follower_index = [&](int32_t first, int32_t k) {
    return n == 1 ? first : (first + 1 + (shift + k) % (n - 1)) % n;
  };

  std::vector<std::vector<NodeId>> out;
  for (int32_t i = 0; i < count; ++i) {
    int32_t p = first_partition + i;
    if (p > 0 && p % n == 0 && i > 0) ++shift;
    int32_t first = (start + p) % n;
    std::vector<NodeId> replicas{order[first].node};
    std::set<std::string> used_racks{order[first].rack};
    std::set<NodeId> used{order[first].node};
    for (int32_t k = 0; static_cast<int32_t>(replicas.size()) < replication_factor; ++k) {
      const PlacementBroker& b = order[follower_index(first, k)];
      bool rack_ok = used_racks.count(b.rack) == 0 || used_racks.size() == rack_count;
      // Ends within n - 1 steps: while a rack is unused, one of its brokers is
      // unused too, and once every rack is used any unused broker will do.
      if (used.count(b.node) != 0 || !rack_ok) continue;
      replicas.push_back(b.node);
      used.insert(b.node);
      used_racks.insert(b.rack);
    }
    out.push_back(std::move(replicas));
  }
  return out;
}

}  // namespace kreek::coord
