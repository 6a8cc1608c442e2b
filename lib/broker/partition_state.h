// PartitionState: who leads a partition, at which leader epoch, and its replica
// and in-sync sets, as the request handlers see it. MetadataSync sets them from
// the cluster's metadata; until it has, a partition has no leader (in a
// broker's unit tests, with no coordinator, the broker leads everything at
// epoch 0).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/strong_id.h"

namespace kreek::broker {

struct PartitionState {
  NodeId leader;
  LeaderEpoch epoch;
  std::vector<NodeId> replicas;
  std::vector<NodeId> isr;
  int32_t partition_epoch = 0;  // the coordinator's, for ISR compare-and-set
  // Set after an fsync failed: the page cache may have dropped the dirty pages,
  // so acknowledging anything more from this log would be a lie (fsyncgate).
  bool offline = false;
  std::string offline_reason;
  // A replica reassignment in progress (the coordinator's adding/removing).
  std::vector<NodeId> adding;
  std::vector<NodeId> removing;
};

class PartitionTable {
 public:
  explicit PartitionTable(NodeId self) : self_(self) {}

  NodeId self() const { return self_; }
  // From now on partitions nobody has set have no leader (cluster metadata
  // decides), instead of being led by this broker.
  void set_cluster_mode() { cluster_mode_ = true; }
  // The state of topic/p; a standalone default (self leads, epoch 0) if none was set.
  const PartitionState& get(const std::string& topic, PartitionId p) {
    auto it = states_.find({topic, p.value()});
    if (it != states_.end()) return it->second;
    return states_.emplace(std::make_pair(topic, p.value()), cluster_mode_ ? leaderless() : standalone())
        .first->second;
  }
  PartitionState& mutable_state(const std::string& topic, PartitionId p) {
    get(topic, p);
    return states_.find({topic, p.value()})->second;
  }
  bool is_leader(const std::string& topic, PartitionId p) { return get(topic, p).leader == self_; }
  void forget_topic(const std::string& topic) {
    for (auto it = states_.lower_bound({topic, INT32_MIN});
         it != states_.end() && it->first.first == topic;)
      it = states_.erase(it);
  }

 private:
  PartitionState standalone() const {
    return PartitionState{self_, LeaderEpoch(0), {self_}, {self_}, 0, false, {}, {}, {}};
  }
  PartitionState leaderless() const {
    return PartitionState{NodeId(-1), LeaderEpoch(0), {}, {}, 0, false, {}, {}, {}};
  }
  NodeId self_;
  bool cluster_mode_ = false;
  std::map<std::pair<std::string, int32_t>, PartitionState> states_;
};

}  // namespace kreek::broker
