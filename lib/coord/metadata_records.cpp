// JSON encoding of the metadata records; see metadata_records.h.
#include "coord/metadata_records.h"

#include <limits>
#include <optional>

#include "base/json_value.h"

namespace kreek::coord {
namespace {

using nlohmann::json;

// Field readers for records from outside: every miss is a kCorrupt naming the field.
class Reader {
 public:
  Reader(const json& j, std::string_view type) : j_(j), type_(type) {}

  const Status& status() const { return status_; }

  std::string str(const char* key) {
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_string()) return fail(key, "a string"), std::string();
    return it->get<std::string>();
  }
  int64_t i64(const char* key, int64_t min = std::numeric_limits<int64_t>::min(),
              int64_t max = std::numeric_limits<int64_t>::max()) {
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_number_integer()) return fail(key, "an integer"), 0;
    std::optional<int64_t> v = json_int_in(*it, min, max);
    if (!v) return fail(key, "in range"), 0;
    return *v;
  }
  int32_t i32(const char* key, int32_t min = std::numeric_limits<int32_t>::min()) {
    return static_cast<int32_t>(i64(key, min, std::numeric_limits<int32_t>::max()));
  }
  NodeId node(const char* key) { return NodeId(i32(key, -1)); }
  std::vector<NodeId> nodes(const char* key) { return nodes_of(j_, key); }
  // Absent means empty (fields added after the record type was first written).
  std::vector<NodeId> optional_nodes(const char* key) {
    return j_.contains(key) ? nodes_of(j_, key) : std::vector<NodeId>{};
  }
  std::map<std::string, std::string> config(const char* key) {
    std::map<std::string, std::string> out;
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_object()) return fail(key, "an object"), out;
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) return fail(key, "an object of strings"), out;
      out[k] = v.get<std::string>();
    }
    return out;
  }
  std::vector<PartitionAssignment> assignments(const char* key) {
    std::vector<PartitionAssignment> out;
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_array()) return fail(key, "an array"), out;
    for (const auto& p : *it) {
      if (!p.is_object()) return fail(key, "an array of objects"), out;
      PartitionAssignment a;
      a.replicas = nodes_of(p, "replicas");
      a.isr = nodes_of(p, "isr");
      auto l = p.find("leader");
      if (l == p.end() || !l->is_number_integer()) return fail("leader", "an integer"), out;
      std::optional<int64_t> v = json_int_in(*l, -1, std::numeric_limits<int32_t>::max());
      if (!v) return fail("leader", "in range"), out;
      a.leader = NodeId(static_cast<int32_t>(*v));
      out.push_back(std::move(a));
    }
    return out;
  }

 private:
  std::vector<NodeId> nodes_of(const json& obj, const char* key) {
    std::vector<NodeId> out;
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_array()) return fail(key, "an array"), out;
    for (const auto& n : *it) {
      if (!n.is_number_integer() || n.get<int64_t>() < 0 ||
          n.get<int64_t>() > std::numeric_limits<int32_t>::max())
        return fail(key, "an array of node ids"), out;
      out.push_back(NodeId(n.get<int32_t>()));
    }
    return out;
  }
  void fail(const char* key, const char* what) {
    if (status_.is_ok())
      status_ = corrupt("metadata record " + std::string(type_) + ": \"" + key + "\" is not " + what);
  }

  const json& j_;
  std::string_view type_;
  Status status_;
};

json assignment_json(const PartitionAssignment& a) {
  return {{"replicas", nodes_to_json(a.replicas)}, {"leader", a.leader.value()},
          {"isr", nodes_to_json(a.isr)}};
}

json assignments_json(const std::vector<PartitionAssignment>& v) {
  json out = json::array();
  for (const auto& a : v) out.push_back(assignment_json(a));
  return out;
}

struct Encoder {
  json operator()(const RegisterBroker& r) const {
    return {{"node", r.node.value()}, {"incarnation", r.incarnation}, {"data_dir_id", r.data_dir_id},
            {"addr", r.addr}, {"rack", r.rack}};
  }
  json operator()(const UnfenceBroker& r) const {
    return {{"node", r.node.value()}, {"broker_epoch", r.broker_epoch}};
  }
  json operator()(const FenceBroker& r) const {
    return {{"node", r.node.value()}, {"broker_epoch", r.broker_epoch}};
  }
  json operator()(const BeginShutdown& r) const {
    return {{"node", r.node.value()}, {"broker_epoch", r.broker_epoch}};
  }
  json operator()(const CreateTopic& r) const {
    return {{"name", r.name}, {"topic_id", r.topic_id}, {"config", r.config},
            {"partitions", assignments_json(r.partitions)}};
  }
  json operator()(const DeleteTopic& r) const { return {{"name", r.name}, {"topic_id", r.topic_id}}; }
  json operator()(const AlterTopicConfig& r) const { return {{"name", r.name}, {"config", r.config}}; }
  json operator()(const CreatePartitions& r) const {
    return {{"name", r.name}, {"partitions", assignments_json(r.partitions)}};
  }
  json operator()(const PartitionChange& r) const {
    json j = {{"topic", r.topic},
              {"partition", r.partition},
              {"replicas", nodes_to_json(r.replicas)},
              {"leader", r.leader.value()},
              {"leader_epoch", r.leader_epoch.value()},
              {"isr", nodes_to_json(r.isr)},
              {"partition_epoch", r.partition_epoch}};
    if (!r.adding.empty()) j["adding"] = nodes_to_json(r.adding);
    if (!r.removing.empty()) j["removing"] = nodes_to_json(r.removing);
    return j;
  }
  json operator()(const AllocateProducerIds& r) const {
    return {{"first", r.first}, {"count", r.count}};
  }
  json operator()(const InitCluster& r) const { return {{"cluster_id", r.cluster_id}}; }
};

struct TypeName {
  std::string_view operator()(const RegisterBroker&) const { return "register_broker"; }
  std::string_view operator()(const UnfenceBroker&) const { return "unfence_broker"; }
  std::string_view operator()(const FenceBroker&) const { return "fence_broker"; }
  std::string_view operator()(const BeginShutdown&) const { return "begin_shutdown"; }
  std::string_view operator()(const CreateTopic&) const { return "create_topic"; }
  std::string_view operator()(const DeleteTopic&) const { return "delete_topic"; }
  std::string_view operator()(const AlterTopicConfig&) const { return "alter_topic_config"; }
  std::string_view operator()(const CreatePartitions&) const { return "create_partitions"; }
  std::string_view operator()(const PartitionChange&) const { return "partition_change"; }
  std::string_view operator()(const AllocateProducerIds&) const { return "allocate_producer_ids"; }
  std::string_view operator()(const InitCluster&) const { return "init_cluster"; }
};

}  // namespace

json nodes_to_json(const std::vector<NodeId>& nodes) {
  json out = json::array();
  for (NodeId n : nodes) out.push_back(n.value());
  return out;
}

std::string_view record_type(const Record& r) { return std::visit(TypeName{}, r); }

json to_json(const Record& r) {
  json j = std::visit(Encoder{}, r);
  j["type"] = record_type(r);
  return j;
}

Result<Record> record_from_json(const json& j) {
  if (!j.is_object()) return corrupt("metadata record is not an object");
  auto t = j.find("type");
  if (t == j.end() || !t->is_string()) return corrupt("metadata record has no \"type\"");
  const std::string type = t->get<std::string>();
  Reader in(j, type);
  Record out;
  if (type == "register_broker") {
    out = RegisterBroker{in.node("node"), in.str("incarnation"), in.str("data_dir_id"),
                         in.str("addr"), in.str("rack")};
  } else if (type == "unfence_broker") {
    out = UnfenceBroker{in.node("node"), in.i64("broker_epoch", 0)};
  } else if (type == "fence_broker") {
    out = FenceBroker{in.node("node"), in.i64("broker_epoch", 0)};
  } else if (type == "begin_shutdown") {
    out = BeginShutdown{in.node("node"), in.i64("broker_epoch", 0)};
  } else if (type == "create_topic") {
    out = CreateTopic{in.str("name"), in.str("topic_id"), in.config("config"),
                      in.assignments("partitions")};
  } else if (type == "delete_topic") {
    out = DeleteTopic{in.str("name"), in.str("topic_id")};
  } else if (type == "alter_topic_config") {
    out = AlterTopicConfig{in.str("name"), in.config("config")};
  } else if (type == "create_partitions") {
    out = CreatePartitions{in.str("name"), in.assignments("partitions")};
  } else if (type == "partition_change") {
    PartitionChange c;
    c.topic = in.str("topic");
    c.partition = in.i32("partition", 0);
    c.replicas = in.nodes("replicas");
    c.leader = in.node("leader");
    c.leader_epoch = LeaderEpoch(in.i32("leader_epoch", 0));
    c.isr = in.nodes("isr");
    c.partition_epoch = in.i32("partition_epoch", 0);
    c.adding = in.optional_nodes("adding");
    c.removing = in.optional_nodes("removing");
    out = std::move(c);
  } else if (type == "allocate_producer_ids") {
    out = AllocateProducerIds{in.i64("first", 0), in.i64("count", 1)};
  } else if (type == "init_cluster") {
    out = InitCluster{in.str("cluster_id")};
  } else {
    return corrupt("metadata record of unknown type \"" + type + "\"");
  }
  if (!in.status().is_ok()) return in.status();
  return out;
}

}  // namespace kreek::coord
