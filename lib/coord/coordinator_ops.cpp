// The coordinator protocol's ops (kzk-lite(1) documents each): parse and check
// the request, ask the Controller, propose, and answer once durable.
#include <charconv>

#include "base/base.h"
#include "base/json_value.h"
#include "base/random_id.h"
#include "coord/coordinator_internal.h"
#include "proto/request_fields.h"
#include "proto/wire.h"
#include "storage/log_config.h"

namespace kreek::coord {
namespace {

using proto::Json;

constexpr int64_t kMaxWaitMs = 60'000;
constexpr int64_t kMaxInt32 = INT32_MAX;

Status read_string(const Json& req, const char* field, bool required, std::string& out) {
  auto it = req.find(field);
  if (it == req.end() || it->is_null()) {
    if (required) return invalid_request("missing \"" + std::string(field) + "\"");
    return Status::ok();
  }
  if (!it->is_string()) return invalid_request("\"" + std::string(field) + "\" must be a string");
  out = it->get<std::string>();
  return Status::ok();
}

Status read_nodes(const Json& req, const char* field, std::vector<NodeId>& out) {
  auto it = req.find(field);
  if (it == req.end() || !it->is_array())
    return invalid_request("\"" + std::string(field) + "\" must be an array of node ids");
  for (const Json& n : *it) {
    if (!n.is_number_integer() || n.get<int64_t>() < 0 || n.get<int64_t>() > kMaxInt32)
      return invalid_request("\"" + std::string(field) + "\" must be an array of node ids");
    out.push_back(NodeId(n.get<int32_t>()));
  }
  return Status::ok();
}

Json broker_json(const BrokerInfo& b) {
  return {{"node", b.node.value()}, {"addr", b.addr}, {"rack", b.rack},
          {"state", broker_state_name(b.state)}, {"broker_epoch", b.broker_epoch}};
}

}  // namespace

void Coordinator::handle(std::string_view line, std::string_view peer, Respond respond) {
  // The same rules as the broker's (scan_request): strict JSON, no duplicate
  // keys, an id that is a string, an int64, a boolean or null, echoed as sent.
  proto::RequestEnvelope env;
  Status scanned = proto::scan_request(line, scan_, env);
  Request r{std::string(env.id_raw), Json(), std::string(peer), std::move(respond)};
  if (!scanned.is_ok()) return r.fail(scanned);
  r.body = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (r.body.is_discarded() || !r.body.is_object())
    return r.fail(invalid_request("request must be a JSON object"));
  auto op = r.body.find("op");
  if (op == r.body.end() || !op->is_string()) return r.fail(invalid_request("missing \"op\""));
  const std::string name = op->get<std::string>();
  if (stopping_ && name != "hello") return r.fail(Status(Code::kUnavailable, "kzk-lite is shutting down"));
  try {
    if (name == "hello") {
      return r.ok({{"protocol", proto::kProtocolVersion}, {"server", std::string("kzk-lite (kreek ") + KREEK_VERSION + ")"}});
    }
    if (name == "register_broker") return op_register(r);
    if (name == "heartbeat") return op_heartbeat(r);
    if (name == "metadata_fetch") return op_metadata_fetch(r);
    if (name == "create_topic") return op_create_topic(r);
    if (name == "delete_topic") return op_delete_topic(r);
    if (name == "alter_topic") return op_alter_topic(r);
    if (name == "create_partitions") return op_create_partitions(r);
    if (name == "alter_partition") return op_alter_partition(r);
    if (name == "alter_reassignment") return op_alter_reassignment(r);
    if (name == "init_producer_id") return op_init_producer_id(r);
    if (name == "describe_cluster") return op_describe_cluster(r);
  } catch (const std::exception& e) {
    // Limitation: a handler bug answers INTERNAL rather than ending the process.
    return r.fail(internal_error(name + ": " + e.what()));
  }
  std::string shown = name.size() > 64 ? name.substr(0, 64) + "..." : name;
  r.fail(invalid_request("unknown op \"" + shown + "\""));
}

void Coordinator::answer_after_commit(Request& r, Result<std::vector<Record>> decided, Json fields) {
  if (!decided.is_ok()) return r.fail(decided.status());
  propose(std::move(*decided), [r, fields = std::move(fields)](Status s, int64_t offset) mutable {
    if (!s.is_ok()) return r.fail(s);
    fields["offset"] = offset;
    r.ok(fields);
  });
}

void Coordinator::op_register(Request& r) {
  RegisterBroker reg;
  int64_t node = 0;
  KREEK_FAIL_IF_ERROR(r, proto::require_int(r.body, "node", 0, kMaxInt32, node));
  reg.node = NodeId(static_cast<int32_t>(node));
  KREEK_FAIL_IF_ERROR(r, read_string(r.body, "incarnation", true, reg.incarnation));
  KREEK_FAIL_IF_ERROR(r, read_string(r.body, "data_dir_id", true, reg.data_dir_id));
  KREEK_FAIL_IF_ERROR(r, read_string(r.body, "addr", true, reg.addr));
  KREEK_FAIL_IF_ERROR(r, read_string(r.body, "rack", false, reg.rack));
  auto decided = controller_.register_broker(pending_, reg);
  if (!decided.is_ok()) {
    log::warn("refused registration of node " + std::to_string(node) + " from " + r.peer + ": " +
              decided.status().message());
    return r.fail(decided.status());
  }
  int64_t epoch = pending_.next_offset() + static_cast<int64_t>(decided->size()) - 1;
  NodeId id = reg.node;
  std::string addr = reg.addr;
  propose(std::move(*decided), [this, r, id, epoch, addr](Status s, int64_t offset) mutable {
    if (!s.is_ok()) return r.fail(s);
    sessions_.touch(id, epoch, clock::monotonic_ms());
    log::info("node " + std::to_string(id.value()) + " registered at " + addr + ", broker epoch " +
              std::to_string(epoch));
    r.ok({{"broker_epoch", epoch},
          {"cluster_id", committed_.cluster_id()},
          {"offset", offset},
          {"heartbeat_interval_ms", config_.heartbeat_interval_ms},
          {"session_timeout_ms", config_.session_timeout_ms}});
  });
}

void Coordinator::op_heartbeat(Request& r) {
  HeartbeatRequest hb;
  int64_t node = 0;
  std::optional<bool> shutdown;
  KREEK_FAIL_IF_ERROR(r, proto::require_int(r.body, "node", 0, kMaxInt32, node));
  KREEK_FAIL_IF_ERROR(r, proto::require_int(r.body, "broker_epoch", 0, INT64_MAX, hb.broker_epoch));
  KREEK_FAIL_IF_ERROR(r, proto::require_int(r.body, "applied_offset", -1, INT64_MAX, hb.applied_offset));
  KREEK_FAIL_IF_ERROR(r, proto::read_bool(r.body, "want_shutdown", shutdown));
  hb.node = NodeId(static_cast<int32_t>(node));
  hb.want_shutdown = shutdown.value_or(false);
  auto decided = controller_.heartbeat(pending_, hb);
  if (!decided.is_ok()) return r.fail(decided.status());
  sessions_.touch(hb.node, hb.broker_epoch, clock::monotonic_ms());
  bool ready = decided->shutdown_ready;
  if (ready) sessions_.forget(hb.node);
  propose(std::move(decided->records), [this, r, hb, ready](Status s, int64_t offset) mutable {
    if (!s.is_ok()) return r.fail(s);
    const BrokerInfo* b = committed_.broker(hb.node);
    std::string state = b && b->broker_epoch == hb.broker_epoch ? std::string(broker_state_name(b->state)) : "fenced";
    r.ok({{"state", state}, {"shutdown_ready", ready}, {"offset", offset},
          {"log_end", committed_.next_offset()}});
  });
}

std::string Coordinator::fetch_answer(const std::string& id_raw, int64_t from) const {
  int64_t end = committed_.next_offset();
  bool have_from = !recent_.empty() && recent_.front().first <= from;
  if (from >= end) return proto::ok_line(id_raw, Json{{"next", end}, {"records", Json::array()}});
  if (!have_from) {
    // Too far behind for the records kept in memory: the whole image.
    return proto::ok_line(id_raw, Json{{"next", end}, {"snapshot", committed_.to_json()}, {"records", Json::array()}});
  }
  std::string members = "\"next\":" + std::to_string(end) + ",\"records\":[";
  bool first = true;
  for (const auto& [offset, text] : recent_) {
    if (offset < from) continue;
    if (!first) members += ',';
    first = false;
    members += "{\"offset\":" + std::to_string(offset) + ",\"record\":" + text + "}";
  }
  members += "]";
  return proto::ok_line_raw(id_raw, members);
}

void Coordinator::op_metadata_fetch(Request& r) {
  int64_t from = 0;
  std::optional<int64_t> wait;
  KREEK_FAIL_IF_ERROR(r, proto::require_int(r.body, "from", 0, INT64_MAX, from));
  KREEK_FAIL_IF_ERROR(r, proto::read_int(r.body, "max_wait_ms", 0, kMaxWaitMs, wait));
  int64_t end = committed_.next_offset();
  if (from > pending_.next_offset()) {
    // The broker has seen more than this log holds: another cluster's
    // coordinator, or a data dir that was replaced. It must start over.
    return r.fail(Status(Code::kOffsetOutOfRange, "metadata offset " + std::to_string(from) +
                                                      " is past the log end " + std::to_string(end)));
  }
  // An offset still being written (a client that pipelined behind the
  // change it made) is waited for like the end.
  if (from < end || wait.value_or(0) == 0 || stopping_) return r.respond(fetch_answer(r.id_raw, from));
  auto w = std::make_shared<Waiter>();
  w->id_raw = r.id_raw;
  w->from = from;
  w->respond = std::move(r.respond);
  w->timer = loop_.make_timer();
  std::weak_ptr<Waiter> weak = w;
  w->timer->start(*wait, 0, [this, weak] {
    if (auto w = weak.lock()) {
      w->finish(*this);
      waiters_.remove(w);
    }
  });
  waiters_.push_back(std::move(w));
}

void Coordinator::wake_waiters() {
  auto parked = std::move(waiters_);
  waiters_.clear();
  for (auto& w : parked) w->finish(*this);
}

void Coordinator::op_create_topic(Request& r) {
  CreateTopicRequest req;
  std::optional<int64_t> partitions, rf;
  KREEK_FAIL_IF_ERROR(r, proto::require_topic(r.body, req.name));
  KREEK_FAIL_IF_ERROR(r, proto::read_int(r.body, "partitions", 1, kMaxPartitions, partitions));
  KREEK_FAIL_IF_ERROR(r, proto::read_int(r.body, "replication_factor", 1, 100, rf));
  KREEK_FAIL_IF_ERROR(r, proto::read_config(r.body, /*allow_null=*/false, req.config));
  KREEK_FAIL_IF_ERROR(r, storage::apply_overrides(storage::LogConfig{}, req.config).status());
  req.partitions = static_cast<int32_t>(partitions.value_or(1));
  req.replication_factor = static_cast<int32_t>(rf.value_or(1));
  if (auto it = r.body.find("replicas"); it != r.body.end() && !it->is_null()) {
    if (!it->is_array()) return r.fail(invalid_request("\"replicas\" must be an array of node id arrays"));
    for (const Json& list : *it) {
      Json wrapper = {{"r", list}};
      std::vector<NodeId> nodes;
      KREEK_FAIL_IF_ERROR(r, read_nodes(wrapper, "r", nodes));
      req.replicas.push_back(std::move(nodes));
    }
  }
  req.topic_id = random_id();
  std::string name = req.name;
  int32_t count = req.partitions;
  answer_after_commit(r, controller_.create_topic(pending_, req), {{"topic", name}, {"partitions", count}});
}

void Coordinator::op_delete_topic(Request& r) {
  std::string name;
  KREEK_FAIL_IF_ERROR(r, proto::require_topic(r.body, name));
  answer_after_commit(r, controller_.delete_topic(pending_, name), {{"topic", name}});
}

void Coordinator::op_alter_topic(Request& r) {
  std::string name;
  KREEK_FAIL_IF_ERROR(r, proto::require_topic(r.body, name));
  if (!r.body.contains("config") || !r.body["config"].is_object())
    return r.fail(invalid_request("\"config\" must be an object of key: value (null removes a key)"));
  std::map<std::string, std::string> changes;
  KREEK_FAIL_IF_ERROR(r, proto::read_config(r.body, /*allow_null=*/true, changes));
  const TopicInfo* t = pending_.topic(name);
  if (t == nullptr) return r.fail(Status(Code::kUnknownTopic, "topic \"" + name + "\" does not exist"));
  std::map<std::string, std::string> config = t->config;
  for (const auto& [k, v] : changes) {
    if (v.empty()) config.erase(k);
    else config[k] = v;
  }
  KREEK_FAIL_IF_ERROR(r, storage::apply_overrides(storage::LogConfig{}, config).status());
  Json overrides = config;
  answer_after_commit(r, controller_.alter_topic_config(pending_, name, config),
                      {{"topic", name}, {"overrides", overrides}});
}

void Coordinator::op_create_partitions(Request& r) {
  std::string name;
  int64_t total = 0;
  KREEK_FAIL_IF_ERROR(r, proto::require_topic(r.body, name));
  KREEK_FAIL_IF_ERROR(r, proto::require_int(r.body, "partitions", 1, kMaxPartitions, total));
  answer_after_commit(r, controller_.create_partitions(pending_, name, static_cast<int32_t>(total)),
                      {{"topic", name}, {"partitions", total}});
}

void Coordinator::op_alter_partition(Request& r) {
  AlterPartitionRequest req;
  int64_t partition = 0, node = 0, leader_epoch = 0, partition_epoch = 0;
  KREEK_FAIL_IF_ERROR(r, proto::require_topic(r.body, req.topic));
  KREEK_FAIL_IF_ERROR(r, proto::require_int(r.body, "partition", 0, kMaxPartitions, partition));
  KREEK_FAIL_IF_ERROR(r, proto::require_int(r.body, "node", 0, kMaxInt32, node));
  KREEK_FAIL_IF_ERROR(r, proto::require_int(r.body, "broker_epoch", 0, INT64_MAX, req.broker_epoch));
  KREEK_FAIL_IF_ERROR(r, proto::require_int(r.body, "leader_epoch", 0, kMaxInt32, leader_epoch));
  KREEK_FAIL_IF_ERROR(r, proto::require_int(r.body, "partition_epoch", 0, kMaxInt32, partition_epoch));
  KREEK_FAIL_IF_ERROR(r, read_nodes(r.body, "isr", req.isr));
  // {"2": 17, ...}: the broker epoch each member was seen fetching with.
  if (auto m = r.body.find("member_epochs"); m != r.body.end() && !m->is_null()) {
    if (!m->is_object()) return r.fail(invalid_request("\"member_epochs\" must be an object of node id -> broker epoch"));
    for (const auto& [k, v] : m->items()) {
      int32_t id = 0;
      auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), id);
      std::optional<int64_t> epoch = json_int_in(v, 0);
      if (ec != std::errc() || end != k.data() + k.size() || id < 0 || !epoch)
        return r.fail(invalid_request("\"member_epochs\" must be an object of node id -> broker epoch"));
      req.member_epochs[id] = *epoch;
    }
  }
  req.partition = static_cast<int32_t>(partition);
  req.node = NodeId(static_cast<int32_t>(node));
  req.leader_epoch = LeaderEpoch(static_cast<int32_t>(leader_epoch));
  req.partition_epoch = static_cast<int32_t>(partition_epoch);
  auto decided = controller_.alter_partition(pending_, req);
  if (!decided.is_ok()) return r.fail(decided.status());
  std::string topic = req.topic;
  propose(std::move(*decided), [this, r, topic, partition](Status s, int64_t offset) mutable {
    if (!s.is_ok()) return r.fail(s);
    const PartitionInfo* p = pending_.partition(topic, static_cast<int32_t>(partition));
    if (p == nullptr) return r.fail(Status(Code::kUnknownTopic, "topic \"" + topic + "\" was deleted"));
    Json out = partition_to_json(*p);
    out["offset"] = offset;
    r.ok(out);
  });
}

void Coordinator::op_alter_reassignment(Request& r) {
  std::string topic;
  int64_t partition = 0;
  KREEK_FAIL_IF_ERROR(r, proto::require_topic(r.body, topic));
  KREEK_FAIL_IF_ERROR(r, proto::require_int(r.body, "partition", 0, kMaxPartitions, partition));
  // "replicas": [..] starts (or replaces) a move; null cancels the one running.
  auto it = r.body.find("replicas");
  if (it == r.body.end())
    return r.fail(invalid_request("missing \"replicas\" (an array of node ids, or null to cancel)"));
  std::optional<std::vector<NodeId>> target;
  if (!it->is_null()) {
    target.emplace();
    KREEK_FAIL_IF_ERROR(r, read_nodes(r.body, "replicas", *target));
  }
  auto decided = controller_.alter_reassignment(pending_, topic, static_cast<int32_t>(partition), target);
  if (!decided.is_ok()) return r.fail(decided.status());
  if (decided->empty()) {
    // Nothing to change (the replicas already are the target): answer now.
    Json out = partition_to_json(*pending_.partition(topic, static_cast<int32_t>(partition)));
    out["topic"] = topic;
    out["partition"] = partition;
    out["offset"] = pending_.next_offset() - 1;
    return r.ok(out);
  }
  log::info(std::string(target ? "reassigning " : "cancelling the reassignment of ") + topic + "/" +
            std::to_string(partition) + (target ? " to " + nodes_to_json(*target).dump() : ""));
  propose(std::move(*decided), [this, r, topic, partition](Status s, int64_t offset) mutable {
    if (!s.is_ok()) return r.fail(s);
    const PartitionInfo* p = pending_.partition(topic, static_cast<int32_t>(partition));
    if (p == nullptr) return r.fail(Status(Code::kUnknownTopic, "topic \"" + topic + "\" was deleted"));
    Json out = partition_to_json(*p);
    out["topic"] = topic;
    out["partition"] = partition;
    out["offset"] = offset;
    r.ok(out);
  });
}

void Coordinator::op_init_producer_id(Request& r) {
  int64_t first = pending_.next_producer_id();
  answer_after_commit(r, controller_.allocate_producer_ids(pending_, 1), {{"producer_id", first}});
}

void Coordinator::op_describe_cluster(Request& r) {
  Json brokers = Json::array();
  for (const auto& [id, b] : committed_.brokers()) brokers.push_back(broker_json(b));
  r.ok({{"cluster_id", committed_.cluster_id()},
        {"brokers", std::move(brokers)},
        {"topics", committed_.topics().size()},
        {"log_end", committed_.next_offset()},
        {"session_timeout_ms", config_.session_timeout_ms}});
}

}  // namespace kreek::coord
