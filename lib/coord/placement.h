// Placement: which brokers hold the replicas of new partitions. Kafka's
// assignment, deterministic: brokers in a rack-alternating order, partition p's
// first replica at (start + p) mod n, its followers shifted so that the second
// replicas of consecutive rounds differ, and no two replicas of a partition on
// one rack while racks remain unused. `start` is chosen by the caller (the
// broker leading the fewest partitions), so leaders stay even across topics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/strong_id.h"

namespace kreek::coord {

struct PlacementBroker {
  NodeId node;
  std::string rack;  // "" when the broker gave none
};

// Replica lists for partitions [first_partition, first_partition + count),
// each with `replication_factor` distinct brokers. Errors: kInvalidRequest
// when the factor is below 1 or above the number of brokers.
Result<std::vector<std::vector<NodeId>>> place_replicas(std::vector<PlacementBroker> brokers,
                                                        int32_t first_partition, int32_t count,
                                                        int32_t replication_factor,
                                                        NodeId start_with);

// The brokers ordered by rack, alternating racks: racks a:{1,2} b:{3} -> 1 3 2.
std::vector<PlacementBroker> rack_alternating(std::vector<PlacementBroker> brokers);

}  // namespace kreek::coord
