// Metadata response parsing. A malformed answer (a missing field, a string
// where a number belongs, a float such as 1e300 for a node id) becomes a
// PROTOCOL_ERROR Status, never an exception or an out-of-range conversion.
#include "client/metadata.h"

#include <algorithm>
#include <limits>

#include "client/json_field.h"

namespace kreek::client {
namespace {

Status protocol(std::string m) { return Status(Code::kProtocol, std::move(m)); }

constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();
constexpr std::string_view kWhat = "metadata response";

// Node ids that fit an int32; anything else in the list is skipped.
std::vector<NodeId> node_list(const proto::Json& j) {
  std::vector<NodeId> out;
  if (j.is_array())
    for (const auto& n : j) {
      if (!n.is_number_integer()) continue;
      if (n.is_number_unsigned() ? n.get<uint64_t>() > static_cast<uint64_t>(kMaxInt32)
                                 : (n.get<int64_t>() < -1 || n.get<int64_t>() > kMaxInt32))
        continue;
      out.emplace_back(static_cast<int32_t>(n.get<int64_t>()));
    }
  return out;
}

}  // namespace

Result<ClusterMeta> parse_metadata(const proto::Json& r) {
  ClusterMeta meta;
  try {
    for (const auto& b : r.at("brokers")) {
      KREEK_ASSIGN_OR_RETURN(int64_t node, int_field(b, kWhat, "node", 0, kMaxInt32));
      meta.brokers[static_cast<int32_t>(node)] = b.at("addr").get<std::string>();
    }
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
        KREEK_ASSIGN_OR_RETURN(int64_t partition, int_field(p, kWhat, "partition", 0, kMaxInt32));
        KREEK_ASSIGN_OR_RETURN(int64_t leader, int_field(p, kWhat, "leader", -1, kMaxInt32, -1));
        KREEK_ASSIGN_OR_RETURN(int64_t epoch, int_field(p, kWhat, "epoch", 0, kMaxInt32, 0));
        pm.partition = PartitionId(static_cast<int32_t>(partition));
        pm.leader = NodeId(static_cast<int32_t>(leader));
        pm.epoch = LeaderEpoch(static_cast<int32_t>(epoch));
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
