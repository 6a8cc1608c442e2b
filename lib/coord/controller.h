// Controller: the coordinator's decisions. Each call takes the current image
// (including changes decided but not yet durable) and a request, and returns
// the records to append, or refuses with a Status and writes nothing. Pure:
// no clock (time comes in as arguments), no I/O, no randomness (topic ids come
// in from the caller), so the seeded simulation can drive it step by step.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "coord/metadata_image.h"
#include "coord/metadata_records.h"

namespace kreek::coord {

struct ControllerConfig {
  // Cluster default for topics that do not set unclean.leader.election.enable.
  bool unclean_leader_election = false;
};

struct HeartbeatRequest {
  NodeId node;
  int64_t broker_epoch = 0;
  int64_t applied_offset = -1;  // the broker has applied records up to here (inclusive)
  bool want_shutdown = false;
};

struct HeartbeatDecision {
  std::vector<Record> records;
  // The broker may stop now: nothing it leads can be handed over any more,
  // and it has been fenced (in `records`).
  bool shutdown_ready = false;
};

struct AlterPartitionRequest {
  std::string topic;
  int32_t partition = 0;
  NodeId node;               // the leader asking
  int64_t broker_epoch = 0;  // its registration
  LeaderEpoch leader_epoch;  // the epoch it leads at
  int32_t partition_epoch = 0;  // the partition epoch it saw (compare-and-set)
  std::vector<NodeId> isr;      // the ISR it wants
  // For each member it adds, the broker epoch the leader saw it fetch with
  // (Kafka's KIP-903): a member that registered again since (a restart, a new
  // disk) must catch up afresh before it may join.
  std::map<int32_t, int64_t> member_epochs;
};

struct CreateTopicRequest {
  std::string name;
  std::string topic_id;  // random, chosen by the caller
  int32_t partitions = 1;
  int32_t replication_factor = 1;
  std::map<std::string, std::string> config;
  // Replica lists given by the caller (a standalone data dir joining a cluster
  // registers the topics it holds); empty means place them.
  std::vector<std::vector<NodeId>> replicas;
};

class Controller {
 public:
  explicit Controller(ControllerConfig config = {}) : config_(config) {}

  // A broker starting. Refuses a node id held by a live broker with another
  // data dir (kDuplicateBroker); a restart of the same data dir fences the old
  // registration first. The new broker epoch is the RegisterBroker record's
  // offset: image.next_offset() + records.size() - 1.
  Result<std::vector<Record>> register_broker(const MetadataImage& image,
                                              const RegisterBroker& request) const;

  // A live broker's heartbeat: unfences it once it has applied the log up to
  // its last state change, runs controlled shutdown when asked. kFencedEpoch
  // if the broker epoch is not the node's current registration.
  Result<HeartbeatDecision> heartbeat(const MetadataImage& image, const HeartbeatRequest& request) const;

  // The node's session expired (or it asked to stop): fence it, take it out of
  // every ISR it is not the last member of, and move its leaderships.
  std::vector<Record> fence(const MetadataImage& image, NodeId node) const;

  // A leader's ISR change, compare-and-set on the partition epoch.
  // kFencedEpoch for a stale broker, leader or partition epoch; kNotLeader if
  // the sender does not lead; kInvalidRequest for an ISR that is not a subset
  // of the replicas holding the leader, or adds a broker that is not live.
  Result<std::vector<Record>> alter_partition(const MetadataImage& image,
                                              const AlterPartitionRequest& request) const;

  Result<std::vector<Record>> create_topic(const MetadataImage& image,
                                           const CreateTopicRequest& request) const;
  Result<std::vector<Record>> delete_topic(const MetadataImage& image, const std::string& name) const;
  // `config` is the whole override map after the change (validated by the caller).
  Result<std::vector<Record>> alter_topic_config(const MetadataImage& image, const std::string& name,
                                                 std::map<std::string, std::string> config) const;
  // Raises the topic's partition count to `total`.
  Result<std::vector<Record>> create_partitions(const MetadataImage& image, const std::string& name,
                                                int32_t total) const;

  // Starts, replaces or (target nullopt) cancels a reassignment of one
  // partition's replicas (KIP-455): replicas become target then the current
  // replicas not in it, `adding` = target - current, `removing` = current -
  // target. It completes (here at once, or later in alter_partition and
  // elect_leaders) when every target replica is in the ISR: replicas =
  // target, ISR = ISR and target, and a leader being removed hands over to
  // the target's first eligible ISR member. A new target replaces a running
  // one, counted from the replicas the partition had before it; a cancel
  // goes back to them. kInvalidRequest for an empty target, a node listed
  // twice or not registered, a cancel with nothing running, or a change that
  // would leave no in-sync replica; kUnknownTopic / kUnknownPartition.
  Result<std::vector<Record>> alter_reassignment(const MetadataImage& image, const std::string& topic,
                                                 int32_t partition,
                                                 std::optional<std::vector<NodeId>> target) const;

  // A leader for each leaderless partition that can have one now, and
  // leadership back to each partition's first replica where it is live and in
  // the ISR (Kafka's preferred leader election), and completes reassignments
  // whose target replicas are all in the ISR. Run periodically.
  std::vector<Record> elect_leaders(const MetadataImage& image) const;

  // The cluster's id, for a log that has none yet (its first record).
  std::vector<Record> init_cluster(const MetadataImage& image, std::string cluster_id) const;

  // Producer ids for a new idempotent producer.
  std::vector<Record> allocate_producer_ids(const MetadataImage& image, int64_t count) const;

  // The leader a partition should have now: the first replica that is in the ISR and eligible; with unclean
  // election allowed (and not `isr_only`), else the first eligible replica
  // that is not being added (a new replica has never held the log).
  // kNoLeader if none.
  NodeId choose_leader(const MetadataImage& image, const TopicInfo& topic, const PartitionInfo& p,
                       bool isr_only = false) const;
  bool unclean_allowed(const TopicInfo& topic) const;

 private:
  ControllerConfig config_;
};

}  // namespace kreek::coord
