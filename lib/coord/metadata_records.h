// Metadata records: the facts the coordinator's log is made of. Each record is
// a change already decided (by the Controller); applying it never re-decides
// anything. JSON is their only encoding, on disk and on the wire:
//   {"type":"register_broker","node":1,"incarnation":"9f..","data_dir_id":"..",
//    "addr":"127.0.0.1:9093","rack":""}
// Append-only like the error codes: a record type, once written, stays readable.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/strong_id.h"

namespace kreek::coord {

inline constexpr NodeId kNoLeader{-1};

// A broker process announces itself. Its broker epoch becomes this record's
// offset; it starts fenced. Any earlier registration of the node must already
// be fenced (the Controller writes the FenceBroker first, in the same batch).
struct RegisterBroker {
  NodeId node;
  std::string incarnation;  // random per process start
  std::string data_dir_id;  // from the data directory's marker
  std::string addr;         // advertised HOST:PORT
  std::string rack;         // "" if none
};

// The broker caught up with the log (unfence) or lost its session, shut down or
// was replaced (fence). Partition changes that follow from it are separate
// PartitionChange records in the same batch.
struct UnfenceBroker {
  NodeId node;
  int64_t broker_epoch = 0;
};
struct FenceBroker {
  NodeId node;
  int64_t broker_epoch = 0;
};
// Controlled shutdown began: no new leaderships go to the broker.
struct BeginShutdown {
  NodeId node;
  int64_t broker_epoch = 0;
};

// One partition as created or changed.
struct PartitionAssignment {
  std::vector<NodeId> replicas;  // ordered; the first is the preferred leader
  NodeId leader = kNoLeader;
  std::vector<NodeId> isr;
};

struct CreateTopic {
  std::string name;
  std::string topic_id;  // random: a topic created again under the same name is another topic
  std::map<std::string, std::string> config;  // overrides, Kafka key names
  std::vector<PartitionAssignment> partitions;  // leader epoch 0, partition epoch 0
};
struct DeleteTopic {
  std::string name;
  std::string topic_id;
};
// The topic's whole override map after the change.
struct AlterTopicConfig {
  std::string name;
  std::map<std::string, std::string> config;
};
// Partitions appended to a topic (numbered from its current count).
struct CreatePartitions {
  std::string name;
  std::vector<PartitionAssignment> partitions;
};
// The new state of one partition. partition_epoch is the old one + 1;
// leader_epoch is the old one + 1 exactly when the leader changed.
// While a replica reassignment runs (KIP-455), `replicas` is the target
// followed by the replicas being removed; `adding` are target replicas that
// were not replicas before, `removing` the old ones not in the target. Both
// are absent from the JSON when empty, so logs written before reassignment
// read back unchanged.
struct PartitionChange {
  std::string topic;
  int32_t partition = 0;
  std::vector<NodeId> replicas;
  NodeId leader = kNoLeader;
  LeaderEpoch leader_epoch;
  std::vector<NodeId> isr;
  int32_t partition_epoch = 0;
  std::vector<NodeId> adding;
  std::vector<NodeId> removing;
};
// The first record of every metadata log: the cluster's random id. A broker
// remembers the id of the cluster it joined and will not join another by
// mistake (a wiped coordinator would otherwise look like every topic deleted).
struct InitCluster {
  std::string cluster_id;
};
// Producer ids [first, first + count) now belong to a producer.
struct AllocateProducerIds {
  int64_t first = 0;
  int64_t count = 0;
};

using Record = std::variant<RegisterBroker, UnfenceBroker, FenceBroker, BeginShutdown, CreateTopic,
                            DeleteTopic, AlterTopicConfig, CreatePartitions, PartitionChange,
                            AllocateProducerIds, InitCluster>;

// "register_broker", "partition_change", ...
std::string_view record_type(const Record& r);

nlohmann::json to_json(const Record& r);
// Errors: kCorrupt naming what is missing or of the wrong type (a record read
// back from disk or from a coordinator is input like any other).
Result<Record> record_from_json(const nlohmann::json& j);

nlohmann::json nodes_to_json(const std::vector<NodeId>& nodes);

}  // namespace kreek::coord
