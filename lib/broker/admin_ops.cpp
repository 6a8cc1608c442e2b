// hello, metadata and the topic admin ops; list_offsets lives in list_offsets.cpp.
#include "broker/admin_ops.h"

#include <cmath>

#include "base/clock.h"
#include "base/log.h"
#include "broker/broker_context.h"
#include "broker/replica_manager.h"
#include "proto/request_fields.h"
#include "proto/wire.h"
#include "storage/compactor.h"
#include "storage/log_manager.h"

namespace kreek::broker {

using proto::read_bool, proto::read_config, proto::read_int, proto::require_topic;

using json = nlohmann::ordered_json;

namespace {

json node_list(const std::vector<NodeId>& nodes) {
  json out = json::array();
  for (NodeId n : nodes) out.push_back(n.value());
  return out;
}

json partition_json(BrokerContext& ctx, const std::string& topic, int32_t p) {
  const PartitionState& ps = ctx.partitions.get(topic, PartitionId(p));
  json j = {{"partition", p},
            {"leader", ps.leader.value()},
            {"epoch", ps.epoch.value()},
            {"replicas", node_list(ps.replicas)},
            {"isr", node_list(ps.isr)}};
  if (ps.offline) j["offline"] = true;
  // Only while a reassignment runs (ktopic describe shows them).
  if (!ps.adding.empty()) j["adding"] = node_list(ps.adding);
  if (!ps.removing.empty()) j["removing"] = node_list(ps.removing);
  return j;
}

json overrides_json(const storage::TopicInfo& t) {
  json out = json::object();
  for (const auto& [k, v] : t.overrides) out[k] = v;
  return out;
}


json topic_metadata(BrokerContext& ctx, const storage::TopicInfo& t) {
  json parts = json::array();
  for (int32_t p = 0; p < t.partitions; ++p) parts.push_back(partition_json(ctx, t.name, p));
  return {{"topic", t.name}, {"partitions", std::move(parts)}, {"config", overrides_json(t)}};
}

}  // namespace

Result<json> handle_hello(BrokerContext& ctx, const json& req) {
  return json{{"protocol", proto::kProtocolVersion},
              {"server", std::string("kreek ") + KREEK_VERSION},
              {"node", ctx.config.node_id}};
}

Result<json> handle_metadata(BrokerContext& ctx, const json& req) {
  std::optional<bool> auto_create;
  KREEK_RETURN_IF_ERROR(read_bool(req, "auto_create", auto_create));
  json topics = json::array();
  auto names = req.find("topics");
  if (names == req.end() || names->is_null()) {
    for (const storage::TopicInfo* t : ctx.logs.topics()) topics.push_back(topic_metadata(ctx, *t));
  } else {
    if (!names->is_array()) return invalid_request("\"topics\" must be an array of topic names");
    for (const json& n : *names) {
      if (!n.is_string()) return invalid_request("\"topics\" must be an array of topic names");
      json wrapper = {{"topic", n}};
      std::string name;
      KREEK_RETURN_IF_ERROR(require_topic(wrapper, name));
    }
    for (const json& n : *names) {
      std::string name = n.get<std::string>();
      auto t = ctx.find_topic(name, auto_create.value_or(false));
      if (t.is_ok()) {
        topics.push_back(topic_metadata(ctx, **t));
      } else {
        topics.push_back({{"topic", name}, {"error", error_json(t.status())}});
      }
    }
  }
  json brokers = json::array();
  if (ctx.brokers.empty()) brokers.push_back({{"node", ctx.config.node_id}, {"addr", ctx.address}});
  for (const auto& [id, b] : ctx.brokers) {
    if (b.state == coord::BrokerState::kFenced) continue;  // not reachable as far as the cluster knows
    json one = {{"node", id}, {"addr", b.addr}};
    if (!b.rack.empty()) one["rack"] = b.rack;
    brokers.push_back(std::move(one));
  }
  return json{{"brokers", std::move(brokers)}, {"topics", std::move(topics)}};
}

Result<json> handle_describe_cluster(BrokerContext& ctx, const json& req) {
  std::map<int32_t, int64_t> leads;
  for (const storage::TopicInfo* t : ctx.logs.topics())
    for (int32_t p = 0; p < t->partitions; ++p) ++leads[ctx.partitions.get(t->name, PartitionId(p)).leader.value()];
  json brokers = json::array();
  if (ctx.brokers.empty())
    brokers.push_back({{"node", ctx.config.node_id}, {"addr", ctx.address}, {"rack", ""}, {"state", "live"},
                       {"leader_of", leads[ctx.config.node_id]}});
  for (const auto& [id, b] : ctx.brokers)
    brokers.push_back({{"node", id}, {"addr", b.addr}, {"rack", b.rack},
                       {"state", std::string(coord::broker_state_name(b.state))}, {"leader_of", leads[id]}});
  json out = {{"cluster_id", ctx.cluster_id}, {"node", ctx.config.node_id}, {"brokers", std::move(brokers)}};
  if (leads.count(-1) != 0) out["leaderless_partitions"] = leads[-1];
  return out;
}

Result<json> handle_create_topic(BrokerContext& ctx, const json& req) {
  std::string name;
  KREEK_RETURN_IF_ERROR(require_topic(req, name));
  std::optional<int64_t> partitions;
  KREEK_RETURN_IF_ERROR(read_int(req, "partitions", 1, proto::kMaxPartitions, partitions));
  std::map<std::string, std::string> config;
  KREEK_RETURN_IF_ERROR(read_config(req, /*allow_null=*/false, config));
  int32_t count = static_cast<int32_t>(partitions.value_or(ctx.config.default_partitions));
  if (ctx.logs.topic(name) != nullptr)
    return Status(Code::kTopicExists, "topic \"" + name + "\" already exists");
  auto t = ctx.logs.create_topic(name, count, config);
  if (!t.is_ok()) return t.status();
  log::info("created topic \"" + name + "\" with " + std::to_string(count) + (count == 1 ? " partition" : " partitions"));
  return json{{"topic", name}, {"partitions", (*t)->partitions}};
}

Result<json> handle_delete_topic(BrokerContext& ctx, const json& req) {
  std::string name;
  KREEK_RETURN_IF_ERROR(require_topic(req, name));
  if (ctx.logs.topic(name) == nullptr)
    return Status(Code::kUnknownTopic, "topic \"" + name + "\" does not exist");
  Status s = ctx.logs.delete_topic(name);
  // Whatever happened to the files, the topic is gone from the manager: waiters
  // on it must not touch its logs again (single-threaded, so no flush completes
  // in between).
  ctx.on_topic_deleted(name);
  KREEK_RETURN_IF_ERROR(s);
  log::info("deleted topic \"" + name + "\"");
  return json::object();
}

Result<json> handle_alter_topic(BrokerContext& ctx, const json& req) {
  std::string name;
  KREEK_RETURN_IF_ERROR(require_topic(req, name));
  if (!req.contains("config") || !req["config"].is_object())
    return invalid_request("\"config\" must be an object of key: value (null removes a key)");
  std::map<std::string, std::string> changes;
  KREEK_RETURN_IF_ERROR(read_config(req, /*allow_null=*/true, changes));
  if (ctx.logs.topic(name) == nullptr)
    return Status(Code::kUnknownTopic, "topic \"" + name + "\" does not exist");
  auto t = ctx.logs.alter_topic(name, changes);
  if (!t.is_ok()) return t.status();
  log::info("altered topic \"" + name + "\" config");
  return json{{"topic", name}, {"config", effective_config(**t)},
              {"overrides", overrides_json(**t)}};
}

json describe_topic_partition(BrokerContext& ctx, const storage::TopicInfo& topic, int32_t p) {
  const std::string& name = topic.name;
  const storage::TopicInfo* t = &topic;
  json pj = partition_json(ctx, name, p);
  // Offsets and sizes only from the leader: another broker's copy of the
  // log says nothing about the partition (ktopic asks each leader).
  storage::PartitionLog* log = ctx.partitions.is_leader(name, PartitionId(p)) ? ctx.logs.log(name, PartitionId(p)) : nullptr;
  if (log != nullptr) {
    pj["log_start"] = log->log_start().value();
    pj["log_end"] = log->log_end().value();
    pj["hw"] = ctx.replicas->high_watermark(name, PartitionId(p)).value();
    pj["size"] = log->size_bytes();
    pj["segments"] = log->segment_count();
    // The leader's view of its followers: how far each has copied.
    if (const repl::LeaderState* ls = ctx.replicas->leader_state(name, PartitionId(p))) {
      json followers = json::array();
      int64_t now = clock::monotonic_ms();
      for (const repl::FollowerView& f : ls->followers())
        followers.push_back({{"node", f.node.value()},
                             {"log_end", f.leo.value()},
                             {"lag", f.leo.value() < 0 ? -1 : log->log_end() - f.leo},
                             {"caught_up_ms_ago", f.last_caught_up_ms == 0 ? -1 : now - f.last_caught_up_ms}});
      pj["followers"] = std::move(followers);
    }
    if (t->config.cleanup_compact) {
      // The log cleaner's view: how far it got and how dirty the rest is.
      const storage::CleanerState& cs = log->cleaner();
      storage::Cleanable c = storage::Compactor::assess(*log, TimestampMs(clock::now_ms()));
      pj["cleaner"] = {{"cleaned_to", cs.cleaned_to.value()},
                       {"dirty_ratio", std::round(c.dirty_ratio * 1000) / 1000},
                       {"compactions", cs.runs},
                       {"last_ms", cs.last_run_ms}};
    }
  }
  return pj;
}

json describe_topic_answer(const storage::TopicInfo& t, json partitions) {
  return json{{"topic", t.name},
              {"config", effective_config(t)},
              {"overrides", overrides_json(t)},
              {"partitions", std::move(partitions)}};
}

Result<json> handle_describe_topic(BrokerContext& ctx, const json& req) {
  std::string name;
  KREEK_RETURN_IF_ERROR(require_topic(req, name));
  const storage::TopicInfo* t = ctx.logs.topic(name);
  if (t == nullptr) return Status(Code::kUnknownTopic, "topic \"" + name + "\" does not exist");
  json parts = json::array();
  for (int32_t p = 0; p < t->partitions; ++p) parts.push_back(describe_topic_partition(ctx, *t, p));
  return describe_topic_answer(*t, std::move(parts));
}

json effective_config(const storage::TopicInfo& t) {
  json out = json::object();
  for (const auto& [k, v] : storage::describe(t.config)) out[k] = v;
  return out;
}

json error_json(const Status& s) {
  return {{"code", std::string(code_name(s.code()))}, {"message", s.message()}};
}

}  // namespace kreek::broker
