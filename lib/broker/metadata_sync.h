// MetadataSync: brings a broker's local state in line with the cluster's
// metadata image each time the image moves on. Topics the cluster has get
// local logs (with the cluster's topic id and config, more partitions when the
// count grows); topics it deleted, or that are an older topic under the same
// name, lose their local data; every partition's leader, epoch, replicas and
// ISR go to the PartitionTable the request handlers consult. Topics found in
// the data directory that the cluster has never heard of (a standalone data
// dir joining a cluster) are registered with this broker as their only
// replica, not deleted.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "broker/partition_state.h"
#include "base/status.h"
#include "coord/metadata_image.h"
#include "storage/log_manager.h"

namespace kreek::broker {

struct BrokerContext;

class MetadataSync {
 public:
  // `register_topic(name)` asks the coordinator to adopt a local topic the
  // cluster does not know (the caller forwards create_topic with this broker
  // as every partition's replica); it is asked once per topic.
  // `reapply()` applies the newest image again: new logs made on a worker
  // thread are in, and what their topic waited for can follow.
  MetadataSync(BrokerContext& ctx, std::function<void(const std::string& topic)> register_topic,
               std::function<void()> reapply)
      : ctx_(ctx), register_topic_(std::move(register_topic)), reapply_(std::move(reapply)) {}

  // Applies `image` to the local state. Call only with an image that has
  // caught up at least to this broker's own registration: an image from
  // before it would make every local topic look deleted.
  void apply(const coord::MetadataImage& image);

 private:
  // The replication metrics: leader changes, and ISR changes of partitions led here.
  void count_changes(const PartitionState& was, const coord::PartitionInfo& now);
  // The leader, epoch, replicas and ISR of `name`'s first `count` partitions.
  void apply_partition_states(const std::string& name, const coord::TopicInfo& cluster, int32_t count);
  // Runs make_new_logs of a begun job on a worker thread and finishes it on
  // the loop, then reapplies.
  void make_logs_off_loop(Result<std::unique_ptr<storage::NewLogs>> begun);

  // New logs of fewer partitions are made in place: about a millisecond,
  // less than the way to a worker thread and back is worth.
  static constexpr int32_t kOffLoopPartitions = 64;

  BrokerContext& ctx_;
  std::function<void(const std::string&)> register_topic_;
  std::function<void()> reapply_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for work finishing after this is gone
  std::set<std::string> registering_;
  std::set<std::string> conflicting_;  // local topics whose name the cluster uses otherwise (warned once)
};

}  // namespace kreek::broker
