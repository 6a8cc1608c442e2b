// MetadataImage: the cluster's metadata as of some offset of the metadata log,
// and apply(), the deterministic state machine that moves it one record on.
// apply() has no clock, no I/O and no randomness: the coordinator, every
// broker following its log, a replay after a restart and (later) a Raft quorum
// all reach the same image from the same records. to_json() is the snapshot,
// and two images are equal exactly when their snapshots are.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/strong_id.h"
#include "coord/metadata_records.h"

namespace kreek::coord {

enum class BrokerState { kFenced, kLive, kShuttingDown };
std::string_view broker_state_name(BrokerState s);  // "fenced", "live", "shutting_down"

struct BrokerInfo {
  NodeId node;
  std::string incarnation;
  std::string data_dir_id;
  std::string addr;
  std::string rack;
  int64_t broker_epoch = 0;  // offset of its RegisterBroker record
  BrokerState state = BrokerState::kFenced;
  // Offset of the last record that changed `state`: a broker must have applied
  // the log up to here before it may be unfenced again.
  int64_t state_offset = 0;
};

struct PartitionInfo {
  std::vector<NodeId> replicas;  // the first is the preferred leader
  NodeId leader = kNoLeader;
  LeaderEpoch leader_epoch;
  std::vector<NodeId> isr;
  int32_t partition_epoch = 0;
  // A reassignment in progress (KIP-455): `replicas` holds the target first,
  // then the replicas being removed. Both empty when none runs.
  std::vector<NodeId> adding;
  std::vector<NodeId> removing;

  bool has_leader() const { return leader != kNoLeader; }
  bool in_isr(NodeId n) const;
  bool is_replica(NodeId n) const;
  bool is_reassigning() const { return !adding.empty() || !removing.empty(); }
  // The replicas the partition will have once the reassignment completes
  // (all of them when none runs), in order.
  std::vector<NodeId> target() const;
};

struct TopicInfo {
  std::string name;
  std::string topic_id;
  std::map<std::string, std::string> config;  // overrides
  std::vector<PartitionInfo> partitions;
};

class MetadataImage {
 public:
  // The offset the next record will have (= records applied so far).
  int64_t next_offset() const { return next_offset_; }

  // Applies the record at `offset`, which must be next_offset(). A record that
  // does not fit the image (a second registration of a live node, a partition
  // epoch that is not the next) is refused with kCorrupt and changes nothing:
  // the Controller never writes one, so on replay it means damaged metadata.
  Status apply(int64_t offset, const Record& record);

  const std::map<int32_t, BrokerInfo>& brokers() const { return brokers_; }
  const BrokerInfo* broker(NodeId node) const;
  // Registered and not fenced (live or shutting down).
  bool is_active(NodeId node) const;
  // Active and not shutting down: may be given new leaderships.
  bool is_eligible(NodeId node) const;

  const std::map<std::string, TopicInfo, std::less<>>& topics() const { return topics_; }
  const TopicInfo* topic(std::string_view name) const;
  const PartitionInfo* partition(std::string_view topic, int32_t p) const;
  int64_t next_producer_id() const { return next_producer_id_; }
  const std::string& cluster_id() const { return cluster_id_; }  // "" before init_cluster

  nlohmann::json to_json() const;
  // Errors: kCorrupt naming the first bad field.
  static Result<MetadataImage> from_json(const nlohmann::json& j);

 private:
  Status apply_one(int64_t offset, const Record& record);

  int64_t next_offset_ = 0;
  std::map<int32_t, BrokerInfo> brokers_;
  std::map<std::string, TopicInfo, std::less<>> topics_;
  int64_t next_producer_id_ = 0;
  std::string cluster_id_;
};

// The partition as a client sees it in `metadata` answers and the image's snapshot.
nlohmann::json partition_to_json(const PartitionInfo& p);

}  // namespace kreek::coord
