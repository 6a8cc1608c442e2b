// Admin: topic management requests (what ktopic does), one request each on the
// bootstrap connection. Results are the broker's JSON, for printing as-is
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

// Errors: TOPIC_EXISTS, INVALID_REQUEST.
Result<proto::Json> create_topic(Cluster& cluster, const std::string& topic,
                                    std::optional<int32_t> partitions, const ConfigChanges& config);
// Topic names, sorted.
Result<std::vector<std::string>> list_topics(Cluster& cluster);
// The describe_topic response (partitions with log start/end, sizes, config).
Result<proto::Json> describe_topic(Cluster& cluster, const std::string& topic);
Status delete_topic(Cluster& cluster, const std::string& topic);
// Returns the effective config after the change.
Result<proto::Json> alter_topic(Cluster& cluster, const std::string& topic,
                                   const ConfigChanges& changes);

}  // namespace kreek::client
