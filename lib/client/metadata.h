// Metadata: what the client knows about the cluster, parsed from a metadata
// response: broker addresses by node id, and per topic its partitions with
// their leaders. The Cluster caches it and routes requests by leader address.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proto/message.h"

#include "base/status.h"
#include "base/strong_id.h"

namespace kreek::client {

struct PartitionMeta {
  PartitionId partition;
  NodeId leader{-1};  // -1: no leader right now
  LeaderEpoch epoch;
  std::vector<NodeId> replicas;
  std::vector<NodeId> isr;
};

struct TopicMeta {
  std::string topic;
  Status error;  // e.g. UNKNOWN_TOPIC for a named topic that does not exist
  std::vector<PartitionMeta> partitions;  // indexed by partition number
  proto::Json config = proto::Json::object();  // overrides, as the broker sent them
  int32_t partition_count() const { return static_cast<int32_t>(partitions.size()); }
};

struct ClusterMeta {
  std::map<int32_t, std::string> brokers;  // node id -> "host:port"
  std::vector<TopicMeta> topics;
};

// Parses the body of a successful metadata response. Errors: kProtocol.
Result<ClusterMeta> parse_metadata(const proto::Json& response);


}  // namespace kreek::client
