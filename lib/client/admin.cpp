// Admin requests: build the JSON, call, hand back the response.
#include "client/admin.h"

#include <algorithm>
#include <cstdint>
#include <set>

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
                                    std::optional<int32_t> partitions, const ConfigChanges& config,
                                    int32_t replication_factor) {
  proto::Json req = {{"op", "create_topic"}, {"topic", topic}};
  if (partitions) req["partitions"] = *partitions;
  req["replication_factor"] = replication_factor;
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

int merge_partition_logs(proto::Json& into, const proto::Json& from) {
  int taken = 0;
  auto theirs = from.find("partitions");
  auto ours = into.find("partitions");
  if (theirs == from.end() || ours == into.end() || !theirs->is_array() || !ours->is_array()) return 0;
  for (const auto& tp : *theirs) {
    if (!tp.is_object() || !tp.contains("log_end")) continue;  // not led there
    for (auto& op : *ours)
      if (op.is_object() && op.value("partition", proto::Json()) == tp.value("partition", proto::Json())) {
        op = tp;  // the leader's view, leader and epoch included
        ++taken;
      }
  }
  return taken;
}

Result<proto::Json> describe_topic(Cluster& cluster, const std::string& topic,
                                      std::vector<Status>* missed) {
  proto::Json req = {{"op", "describe_topic"}, {"topic", topic}};
  KREEK_ASSIGN_OR_RETURN(proto::Json out, cluster.call(req));
  // Which leaders' partitions still lack log fields, by leader node.
  std::set<int32_t> leaders;
  for (const auto& p : out.value("partitions", proto::Json::array())) {
    if (!p.is_object() || p.contains("log_end")) continue;
    auto l = p.value("leader", proto::Json());
    if (l.is_number_integer() && l.get<int64_t>() >= 0 && l.get<int64_t>() <= INT32_MAX)
      leaders.insert(static_cast<int32_t>(l.get<int64_t>()));
  }
  if (leaders.empty()) return out;
  // Broker addresses come from metadata (the bootstrap broker's answer above
  // named only node ids).
  KREEK_ASSIGN_OR_RETURN(proto::Json meta_resp, cluster.call({{"op", "metadata"}, {"topics", {topic}}}));
  KREEK_ASSIGN_OR_RETURN(ClusterMeta meta, parse_metadata(meta_resp));
  for (int32_t node : leaders) {
    auto addr = meta.brokers.find(node);
    if (addr == meta.brokers.end()) {
      if (missed) missed->push_back(Status(Code::kNotLeader, "node " + std::to_string(node) + " has no address"));
      continue;
    }
    proto::Json one = {{"op", "describe_topic"}, {"id", cluster.next_id()}, {"topic", topic}};
    auto conn = cluster.connection(addr->second);
    Result<proto::Json> r = conn.is_ok() ? cluster.call_on(**conn, one, cluster.options().request_timeout_ms)
                                         : Result<proto::Json>(conn.status());
    if (conn.is_ok() && (*conn)->is_broken()) cluster.drop(addr->second);
    if (!r.is_ok()) {
      if (missed) missed->push_back(r.status().with_context("describe " + topic + " on node " +
                                                            std::to_string(node) + " (" + addr->second + ")"));
      continue;
    }
    merge_partition_logs(out, *r);
  }
  return out;
}

Result<proto::Json> describe_cluster(Cluster& cluster) {
  return cluster.call({{"op", "describe_cluster"}});
}

Status delete_topic(Cluster& cluster, const std::string& topic) {
  return cluster.call({{"op", "delete_topic"}, {"topic", topic}}).status();
}

Result<proto::Json> alter_topic(Cluster& cluster, const std::string& topic,
                                   const ConfigChanges& changes) {
  return cluster.call({{"op", "alter_topic"}, {"topic", topic}, {"config", config_object(changes)}});
}

Result<proto::Json> alter_reassignment(Cluster& cluster, const std::string& topic, int32_t partition,
                                       const std::optional<std::vector<int32_t>>& replicas) {
  proto::Json req = {{"op", "alter_reassignment"}, {"topic", topic}, {"partition", partition}};
  req["replicas"] = replicas ? proto::Json(*replicas) : proto::Json(nullptr);
  return cluster.call(std::move(req));
}

}  // namespace kreek::client
