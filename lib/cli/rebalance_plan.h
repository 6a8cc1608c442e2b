// RebalancePlan: where each partition's replicas should be so that the live
// brokers hold them evenly and lead (as preferred leader, the first replica)
// evenly, reached with as few replica moves as it can (ktopic reassign
// --rebalance). Pure: brokers and partitions in, moves out; ktopic submits
// each move as an alter_reassignment.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/strong_id.h"
#include "proto/message.h"

namespace kreek::cli {

struct PlanBroker {
  NodeId node;
  std::string rack;  // "" if none
};

struct PlanPartition {
  std::string topic;
  int32_t partition = 0;
  std::vector<NodeId> replicas;  // ordered; a running move's target
};

struct PlanMove {
  std::string topic;
  int32_t partition = 0;
  std::vector<NodeId> from;
  std::vector<NodeId> to;
};

struct RebalancePlan {
  std::vector<NodeId> brokers;  // the live brokers planned over, by id
  std::vector<PlanMove> moves;  // by topic, then partition
  int replica_moves = 0;        // replicas that change broker (reorders are free)
  // Replicas and preferred leaderships per live broker (replicas on brokers
  // that are not live are counted under their own id "before").
  std::map<int32_t, int> replicas_before, replicas_after, leaders_before, leaders_after;
};

// Plans over `live` (must not be empty). Replicas on brokers not in `live`
// move first; then replicas go from the most to the least loaded broker until
// counts differ by at most one, then preferred leaders are evened by
// reordering replica lists. Each move keeps a replica's position, and never
// puts two replicas of a partition on one broker, nor (when brokers have
// racks and there are enough racks) on one rack.
RebalancePlan plan_rebalance(const std::vector<PlanBroker>& live, const std::vector<PlanPartition>& partitions);

// `ktopic reassign --rebalance --json`: {"brokers","moves":[{"topic","partition",
// "from","to"}],"replica_moves","replicas_before","replicas_after","leaders_before","leaders_after"}.
proto::Json plan_to_json(const RebalancePlan& plan);
// The text form: one line per move, then the counts before and after.
std::string plan_text(const RebalancePlan& plan);

}  // namespace kreek::cli
