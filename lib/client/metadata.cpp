// Metadata response parsing. The broker is trusted to speak the protocol, but
// a malformed answer still becomes a PROTOCOL_ERROR Status, never an exception.
#include "client/metadata.h"

#include <algorithm>

namespace kreek::client {
namespace {

Status protocol(std::string m) { return Status(Code::kProtocol, std::move(m)); }

std::vector<NodeId> node_list(const proto::Json& j) {
  std::vector<NodeId> out;
  if (j.is_array())
    for (const auto& n : j)
      if (n.is_number_integer()) out.emplace_back(n.get<int32_t>());
  return out;
}

}  // namespace

Result<ClusterMeta> parse_metadata(const proto::Json& r) {
  ClusterMeta meta;
  try {
    for (const auto& b : r.at("brokers"))
      meta.brokers[b.at("node").get<int32_t>()] = b.at("addr").get<std::string>();
    for (const auto& t : r.at("topics")) {
      TopicMeta tm;
      tm.topic = t.at("topic").get<std::string>();
      if (t.contains("error")) {
        tm.error = proto::status_from_error_json(t["error"]);
        meta.topics.push_back(std::move(tm));
        continue;
      }
      for (const auto& p : t.at("partitions")) {
        PartitionMeta pm;
        pm.partition = PartitionId(p.at("partition").get<int32_t>());
        pm.leader = NodeId(p.value("leader", -1));
        pm.epoch = LeaderEpoch(p.value("epoch", 0));
        pm.replicas = node_list(p.value("replicas", proto::Json::array()));
        pm.isr = node_list(p.value("isr", proto::Json::array()));
        tm.partitions.push_back(std::move(pm));
      }
      std::sort(tm.partitions.begin(), tm.partitions.end(),
                [](const PartitionMeta& a, const PartitionMeta& b) { return a.partition < b.partition; });
      for (size_t i = 0; i < tm.partitions.size(); ++i)
        if (tm.partitions[i].partition.value() != static_cast<int32_t>(i))
          return protocol("metadata for topic \"" + tm.topic + "\" has a gap in its partitions");
      if (t.contains("config") && t["config"].is_object()) tm.config = t["config"];
      meta.topics.push_back(std::move(tm));
    }
  } catch (const nlohmann::json::exception& e) {
    return protocol(std::string("malformed metadata response: ") + e.what());
  }
  return meta;
}

}  // namespace kreek::client
