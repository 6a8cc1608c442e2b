// Admin requests: build the JSON, call, hand back the response.
#include "client/admin.h"

#include <algorithm>

namespace kreek::client {
namespace {

proto::Json config_object(const ConfigChanges& changes) {
  proto::Json c = proto::Json::object();
  for (const auto& [k, v] : changes) {
    if (v)
      c[k] = *v;
    else
      c[k] = nullptr;
  }
  return c;
}

}  // namespace

Result<proto::Json> create_topic(Cluster& cluster, const std::string& topic,
                                    std::optional<int32_t> partitions, const ConfigChanges& config) {
  proto::Json req = {{"op", "create_topic"}, {"topic", topic}};
  if (partitions) req["partitions"] = *partitions;
  if (!config.empty()) req["config"] = config_object(config);
  return cluster.call(std::move(req));
}

Result<std::vector<std::string>> list_topics(Cluster& cluster) {
  KREEK_ASSIGN_OR_RETURN(proto::Json resp, cluster.call({{"op", "metadata"}}));
  KREEK_ASSIGN_OR_RETURN(ClusterMeta meta, parse_metadata(resp));
  std::vector<std::string> names;
  for (const auto& t : meta.topics) names.push_back(t.topic);
  std::sort(names.begin(), names.end());
  return names;
}

Result<proto::Json> describe_topic(Cluster& cluster, const std::string& topic) {
  return cluster.call({{"op", "describe_topic"}, {"topic", topic}});
}

Status delete_topic(Cluster& cluster, const std::string& topic) {
  return cluster.call({{"op", "delete_topic"}, {"topic", topic}}).status();
}

Result<proto::Json> alter_topic(Cluster& cluster, const std::string& topic,
                                   const ConfigChanges& changes) {
  return cluster.call({{"op", "alter_topic"}, {"topic", topic}, {"config", config_object(changes)}});
}

}  // namespace kreek::client
