// Admin: topic and cluster management requests (what ktopic does), mostly one
// request each on the bootstrap connection; describe also asks each partition
// leader for its log fields. Results are the broker's JSON, for printing as-is
// (ktopic --json) or as a table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "proto/message.h"

#include "base/status.h"
#include "client/cluster.h"

namespace kreek::client {

// KEY=VALUE pairs; a nullopt value removes an override (alter only).
using ConfigChanges = std::vector<std::pair<std::string, std::optional<std::string>>>;

// Errors: TOPIC_EXISTS, INVALID_REQUEST (also for a replication factor the
// brokers cannot honour).
Result<proto::Json> create_topic(Cluster& cluster, const std::string& topic,
                                    std::optional<int32_t> partitions, const ConfigChanges& config,
                                    int32_t replication_factor = 1);
// Topic names, sorted.
Result<std::vector<std::string>> list_topics(Cluster& cluster);
// The describe_topic response (partitions with log start/end, sizes, config).
// A broker fills the log fields only for partitions it leads, so each other
// leader is asked too and its partitions replace the bootstrap broker's
// entries; partitions without a leader keep no log fields. A leader that cannot
// be asked leaves its partitions without them and adds its error to `missed`.
Result<proto::Json> describe_topic(Cluster& cluster, const std::string& topic,
                                      std::vector<Status>* missed = nullptr);
// Copies into `into` (a describe_topic response) the partitions `from` (another
// broker's answer) has log fields for. Returns how many it took.
int merge_partition_logs(proto::Json& into, const proto::Json& from);
// The describe_cluster response: cluster id, brokers with state and partitions led.
Result<proto::Json> describe_cluster(Cluster& cluster);
Status delete_topic(Cluster& cluster, const std::string& topic);
// Returns the effective config after the change.
Result<proto::Json> alter_topic(Cluster& cluster, const std::string& topic,
                                   const ConfigChanges& changes);

// Starts (or replaces) the move of topic/partition to `replicas` (ordered: the
// first is the preferred leader), or with nullopt cancels the one running.
// Answers the partition as the cluster has it then: replicas (the target
// first), isr, leader, and adding/removing while the move runs. Errors:
// INVALID_REQUEST (unknown or repeated node, nothing to cancel, a broker
// without a cluster), UNKNOWN_TOPIC, UNKNOWN_PARTITION.
Result<proto::Json> alter_reassignment(Cluster& cluster, const std::string& topic, int32_t partition,
                                       const std::optional<std::vector<int32_t>>& replicas);

}  // namespace kreek::client
