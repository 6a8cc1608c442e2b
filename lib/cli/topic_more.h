// ktopic's partition-for, metrics and alter --partitions: which partition
// each key goes to (Kafka's partitioner, with the count from metadata), one
// broker's metrics as a listing or JSON, and raising a topic's partition
// count. Kept apart from topic_command.cpp, which wires them in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/cluster.h"
#include "proto/message.h"

namespace kreek::cli {

// "KEY<TAB>PARTITION" per key, or with `json` {"topic","partitions","keys":[{"key","partition"}]}.
Status run_partition_for(client::Cluster& cluster, const std::string& topic, const std::vector<std::string>& keys,
                         bool json);
// The metrics op of one broker: `broker` is HOST:PORT or a node id ("" = the
// bootstrap broker).
Status run_metrics(client::Cluster& cluster, const std::string& broker, bool json);
// Raises the partition count to `total` (refusing to lower it) and warns that
// keyed records now map to other partitions.
Status run_add_partitions(client::Cluster& cluster, const std::string& topic, int32_t total, bool json);

// The text form of a metrics answer: "name{labels} value" per sample, and for
// histograms "name{labels} count=N p50=Xms p99=Yms".
std::string metrics_text(const proto::Json& answer);

}  // namespace kreek::cli
