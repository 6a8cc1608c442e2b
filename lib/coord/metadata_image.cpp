// The metadata state machine; see metadata_image.h. Every branch of apply
// validates first and mutates after, so a refused record leaves no trace.
#include "coord/metadata_image.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>

#include "base/json_value.h"

namespace kreek::coord {
namespace {

using nlohmann::json;

bool contains(const std::vector<NodeId>& v, NodeId n) {
  return std::find(v.begin(), v.end(), n) != v.end();
}

Status misfit(std::string_view type, int64_t offset, const std::string& why) {
  return corrupt("metadata record " + std::to_string(offset) + " (" + std::string(type) +
                 ") does not fit: " + why);
}

// Replicas distinct and non-empty, ISR a non-empty subset, leader none or in the ISR.
std::string check_assignment(const std::vector<NodeId>& replicas, NodeId leader,
                             const std::vector<NodeId>& isr) {
  if (replicas.empty()) return "no replicas";
  if (std::set<NodeId>(replicas.begin(), replicas.end()).size() != replicas.size())
    return "a replica listed twice";
  // An empty ISR means no live replica is known to hold the committed log
  // (its last member came back with another disk): only unclean election can
  // give such a partition a leader.
  if (isr.empty() && leader != kNoLeader) return "a leader with an empty ISR";
  if (std::set<NodeId>(isr.begin(), isr.end()).size() != isr.size()) return "an ISR member listed twice";
  for (NodeId n : isr)
    if (!contains(replicas, n)) return "ISR member " + std::to_string(n.value()) + " is not a replica";
  if (leader != kNoLeader && !contains(isr, leader))
    return "leader " + std::to_string(leader.value()) + " is not in the ISR";
  return "";
}

// Adding and removing: distinct replicas, neither in the other list.
std::string check_reassignment(const std::vector<NodeId>& replicas, const std::vector<NodeId>& adding,
                               const std::vector<NodeId>& removing) {
  for (const auto* list : {&adding, &removing}) {
    if (std::set<NodeId>(list->begin(), list->end()).size() != list->size())
      return "a reassigned replica listed twice";
    for (NodeId n : *list)
      if (!contains(replicas, n)) return "reassigned node " + std::to_string(n.value()) + " is not a replica";
  }
  for (NodeId n : adding)
    if (contains(removing, n)) return "node " + std::to_string(n.value()) + " both added and removed";
  if (removing.size() >= replicas.size()) return "every replica is being removed";
  return "";
}

PartitionInfo from_assignment(const PartitionAssignment& a) {
  PartitionInfo p;
  p.replicas = a.replicas;
  p.leader = a.leader;
  p.isr = a.isr;
  return p;
}

}  // namespace

std::string_view broker_state_name(BrokerState s) {
  switch (s) {
    case BrokerState::kFenced: return "fenced";
    case BrokerState::kLive: return "live";
    case BrokerState::kShuttingDown: return "shutting_down";
  }
  return "fenced";
}

bool PartitionInfo::in_isr(NodeId n) const { return contains(isr, n); }
bool PartitionInfo::is_replica(NodeId n) const { return contains(replicas, n); }

std::vector<NodeId> PartitionInfo::target() const {
  std::vector<NodeId> out;
  for (NodeId n : replicas)
    if (!contains(removing, n)) out.push_back(n);
  return out;
}

const BrokerInfo* MetadataImage::broker(NodeId node) const {
  auto it = brokers_.find(node.value());
  return it == brokers_.end() ? nullptr : &it->second;
}

bool MetadataImage::is_active(NodeId node) const {
  const BrokerInfo* b = broker(node);
  return b != nullptr && b->state != BrokerState::kFenced;
}

bool MetadataImage::is_eligible(NodeId node) const {
  const BrokerInfo* b = broker(node);
  return b != nullptr && b->state == BrokerState::kLive;
}

const TopicInfo* MetadataImage::topic(std::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

const PartitionInfo* MetadataImage::partition(std::string_view topic_name, int32_t p) const {
  const TopicInfo* t = topic(topic_name);
  if (t == nullptr || p < 0 || p >= static_cast<int32_t>(t->partitions.size())) return nullptr;
  return &t->partitions[p];
}

Status MetadataImage::apply(int64_t offset, const Record& record) {
  if (offset != next_offset_)
    return corrupt("metadata record at offset " + std::to_string(offset) + " where " +
                   std::to_string(next_offset_) + " was expected");
  KREEK_RETURN_IF_ERROR(apply_one(offset, record));
  ++next_offset_;
  return Status::ok();
}

Status MetadataImage::apply_one(int64_t offset, const Record& record) {
  std::string_view type = record_type(record);
  auto bad = [&](const std::string& why) { return misfit(type, offset, why); };

  if (auto* r = std::get_if<RegisterBroker>(&record)) {
    if (r->node.value() < 0) return bad("negative node id");
    const BrokerInfo* old = broker(r->node);
    if (old != nullptr && old->state != BrokerState::kFenced)
      return bad("node " + std::to_string(r->node.value()) + " is registered and not fenced");
    BrokerInfo b{r->node, r->incarnation, r->data_dir_id, r->addr, r->rack, offset,
                 BrokerState::kFenced, offset};
    brokers_[r->node.value()] = std::move(b);
    return Status::ok();
  }

  // Unfence, fence and shutdown name a registration by its broker epoch.
  auto registration = [&](NodeId node, int64_t epoch) -> BrokerInfo* {
    auto it = brokers_.find(node.value());
    if (it == brokers_.end() || it->second.broker_epoch != epoch) return nullptr;
    return &it->second;
  };
  auto set_state = [&](NodeId node, int64_t epoch, BrokerState s) -> Status {
    BrokerInfo* b = registration(node, epoch);
    if (b == nullptr)
      return bad("no registration of node " + std::to_string(node.value()) + " at broker epoch " +
                 std::to_string(epoch));
    b->state = s;
    b->state_offset = offset;
    return Status::ok();
  };
  if (auto* r = std::get_if<UnfenceBroker>(&record))
    return set_state(r->node, r->broker_epoch, BrokerState::kLive);
  if (auto* r = std::get_if<FenceBroker>(&record))
    return set_state(r->node, r->broker_epoch, BrokerState::kFenced);
  if (auto* r = std::get_if<BeginShutdown>(&record)) {
    BrokerInfo* b = registration(r->node, r->broker_epoch);
    if (b != nullptr && b->state == BrokerState::kFenced) return bad("a fenced broker cannot shut down");
    return set_state(r->node, r->broker_epoch, BrokerState::kShuttingDown);
  }

  auto check_assignments = [&](const std::vector<PartitionAssignment>& parts) -> std::string {
    for (size_t i = 0; i < parts.size(); ++i) {
      std::string why = check_assignment(parts[i].replicas, parts[i].leader, parts[i].isr);
      if (!why.empty()) return "partition " + std::to_string(i) + ": " + why;
    }
    return "";
  };

  if (auto* r = std::get_if<CreateTopic>(&record)) {
    if (topics_.count(r->name) != 0) return bad("topic \"" + r->name + "\" exists");
    if (r->partitions.empty()) return bad("no partitions");
    if (std::string why = check_assignments(r->partitions); !why.empty()) return bad(why);
    TopicInfo t{r->name, r->topic_id, r->config, {}};
    for (const auto& a : r->partitions) t.partitions.push_back(from_assignment(a));
    topics_[r->name] = std::move(t);
    return Status::ok();
  }
  if (auto* r = std::get_if<DeleteTopic>(&record)) {
    auto it = topics_.find(r->name);
    if (it == topics_.end() || it->second.topic_id != r->topic_id)
      return bad("no topic \"" + r->name + "\" with id " + r->topic_id);
    topics_.erase(it);
    return Status::ok();
  }
  if (auto* r = std::get_if<AlterTopicConfig>(&record)) {
    auto it = topics_.find(r->name);
    if (it == topics_.end()) return bad("no topic \"" + r->name + "\"");
    it->second.config = r->config;
    return Status::ok();
  }
  if (auto* r = std::get_if<CreatePartitions>(&record)) {
    auto it = topics_.find(r->name);
    if (it == topics_.end()) return bad("no topic \"" + r->name + "\"");
    if (r->partitions.empty()) return bad("no partitions");
    if (std::string why = check_assignments(r->partitions); !why.empty()) return bad(why);
    for (const auto& a : r->partitions) it->second.partitions.push_back(from_assignment(a));
    return Status::ok();
  }
  if (auto* r = std::get_if<PartitionChange>(&record)) {
    auto it = topics_.find(r->topic);
    if (it == topics_.end()) return bad("no topic \"" + r->topic + "\"");
    auto& parts = it->second.partitions;
    if (r->partition < 0 || r->partition >= static_cast<int32_t>(parts.size()))
      return bad("no partition " + std::to_string(r->partition));
    PartitionInfo& p = parts[r->partition];
    if (r->partition_epoch != p.partition_epoch + 1)
      return bad("partition epoch " + std::to_string(r->partition_epoch) + " after " +
                 std::to_string(p.partition_epoch));
    bool leader_moved = r->leader != p.leader;
    if (r->leader_epoch != p.leader_epoch && r->leader_epoch != p.leader_epoch + 1)
      return bad("leader epoch " + std::to_string(r->leader_epoch.value()) + " after " +
                 std::to_string(p.leader_epoch.value()));
    if (leader_moved && r->leader_epoch != p.leader_epoch + 1)
      return bad("the leader changed but its epoch did not");
    if (std::string why = check_assignment(r->replicas, r->leader, r->isr); !why.empty())
      return bad(why);
    if (std::string why = check_reassignment(r->replicas, r->adding, r->removing); !why.empty())
      return bad(why);
    p.replicas = r->replicas;
    p.adding = r->adding;
    p.removing = r->removing;
    p.leader = r->leader;
    p.leader_epoch = r->leader_epoch;
    p.isr = r->isr;
    p.partition_epoch = r->partition_epoch;
    return Status::ok();
  }
  if (auto* r = std::get_if<AllocateProducerIds>(&record)) {
    if (r->first != next_producer_id_ || r->count <= 0 || r->first > INT64_MAX - r->count)
      return bad("producer ids from " + std::to_string(r->first) + " where " +
                 std::to_string(next_producer_id_) + " is next");
    next_producer_id_ = r->first + r->count;
    return Status::ok();
  }
  if (auto* r = std::get_if<InitCluster>(&record)) {
    if (!cluster_id_.empty()) return bad("the cluster already has id " + cluster_id_);
    if (r->cluster_id.empty()) return bad("an empty cluster id");
    cluster_id_ = r->cluster_id;
    return Status::ok();
  }
  return bad("unhandled record type");
}

json partition_to_json(const PartitionInfo& p) {
  json j = {{"replicas", nodes_to_json(p.replicas)}, {"leader", p.leader.value()},
            {"leader_epoch", p.leader_epoch.value()}, {"isr", nodes_to_json(p.isr)},
            {"partition_epoch", p.partition_epoch}};
  // Only while a reassignment runs, so snapshots from before it stay byte-equal.
  if (!p.adding.empty()) j["adding"] = nodes_to_json(p.adding);
  if (!p.removing.empty()) j["removing"] = nodes_to_json(p.removing);
  return j;
}

json MetadataImage::to_json() const {
  json brokers = json::array();
  for (const auto& [id, b] : brokers_)
    brokers.push_back({{"node", id}, {"incarnation", b.incarnation}, {"data_dir_id", b.data_dir_id},
                       {"addr", b.addr}, {"rack", b.rack}, {"broker_epoch", b.broker_epoch},
                       {"state", broker_state_name(b.state)}, {"state_offset", b.state_offset}});
  json topics = json::array();
  for (const auto& [name, t] : topics_) {
    json parts = json::array();
    for (const auto& p : t.partitions) parts.push_back(partition_to_json(p));
    topics.push_back({{"name", name}, {"topic_id", t.topic_id}, {"config", t.config},
                      {"partitions", std::move(parts)}});
  }
  return {{"next_offset", next_offset_}, {"next_producer_id", next_producer_id_},
          {"cluster_id", cluster_id_}, {"brokers", std::move(brokers)}, {"topics", std::move(topics)}};
}

Result<MetadataImage> MetadataImage::from_json(const json& j) {
  // A snapshot is read back through the record decoder: each broker and topic
  // is re-encoded as the record that would create it, so there is one set of
  // field checks for both.
  auto field = [&](const json& o, const char* key) -> const json* {
    auto it = o.find(key);
    return it == o.end() ? nullptr : &*it;
  };
  if (!j.is_object()) return corrupt("metadata snapshot is not an object");
  const json* next = field(j, "next_offset");
  const json* pid = field(j, "next_producer_id");
  const json* brokers = field(j, "brokers");
  const json* topics = field(j, "topics");
  // Offsets, epochs and producer ids are never negative (each is a record's
  // offset or counts up from 0); json_int_in also keeps 2^64 - 1 from
  // wrapping to -1 and 2^32 + 5 from wrapping to 5.
  std::optional<int64_t> next_producer_id = pid == nullptr ? std::nullopt : json_int_in(*pid, 0);
  if (next == nullptr || !json_int_in(*next, 0) || !next_producer_id || brokers == nullptr || !brokers->is_array() ||
      topics == nullptr || !topics->is_array())
    return corrupt("metadata snapshot lacks next_offset, next_producer_id, brokers or topics");

  MetadataImage img;
  img.next_producer_id_ = *next_producer_id;
  if (const json* id = field(j, "cluster_id"); id != nullptr && id->is_string()) img.cluster_id_ = id->get<std::string>();
  for (const json& b : *brokers) {
    if (!b.is_object()) return corrupt("metadata snapshot: a broker is not an object");
    json as_record = b;
    as_record["type"] = "register_broker";
    KREEK_ASSIGN_OR_RETURN(Record r, record_from_json(as_record));
    const auto& reg = std::get<RegisterBroker>(r);
    const json* epoch = field(b, "broker_epoch");
    const json* state = field(b, "state");
    const json* state_offset = field(b, "state_offset");
    std::optional<int64_t> broker_epoch = epoch == nullptr ? std::nullopt : json_int_in(*epoch, 0);
    std::optional<int64_t> changed_at = state_offset == nullptr ? std::nullopt : json_int_in(*state_offset, 0);
    if (!broker_epoch || state == nullptr || !state->is_string() || !changed_at)
      return corrupt("metadata snapshot: broker " + std::to_string(reg.node.value()) +
                     " lacks broker_epoch, state or state_offset");
    BrokerInfo info{reg.node, reg.incarnation, reg.data_dir_id, reg.addr, reg.rack,
                    *broker_epoch, BrokerState::kFenced, *changed_at};
    std::string s = state->get<std::string>();
    if (s == "live") info.state = BrokerState::kLive;
    else if (s == "shutting_down") info.state = BrokerState::kShuttingDown;
    else if (s != "fenced") return corrupt("metadata snapshot: unknown broker state \"" + s + "\"");
    img.brokers_[reg.node.value()] = std::move(info);
  }
  for (const json& t : *topics) {
    if (!t.is_object()) return corrupt("metadata snapshot: a topic is not an object");
    json as_record = t;
    as_record["type"] = "create_topic";
    KREEK_ASSIGN_OR_RETURN(Record r, record_from_json(as_record));
    auto& create = std::get<CreateTopic>(r);
    TopicInfo info{create.name, create.topic_id, create.config, {}};
    const json& parts = t["partitions"];
    for (size_t i = 0; i < create.partitions.size(); ++i) {
      PartitionInfo p = from_assignment(create.partitions[i]);
      const json* le = field(parts[i], "leader_epoch");
      const json* pe = field(parts[i], "partition_epoch");
      constexpr int64_t kMaxEpoch = std::numeric_limits<int32_t>::max();
      std::optional<int64_t> leader_epoch = le == nullptr ? std::nullopt : json_int_in(*le, 0, kMaxEpoch);
      std::optional<int64_t> partition_epoch = pe == nullptr ? std::nullopt : json_int_in(*pe, 0, kMaxEpoch);
      if (!leader_epoch || !partition_epoch)
        return corrupt("metadata snapshot: topic \"" + create.name + "\" partition " +
                       std::to_string(i) + " lacks its epochs");
      p.leader_epoch = LeaderEpoch(static_cast<int32_t>(*leader_epoch));
      p.partition_epoch = static_cast<int32_t>(*partition_epoch);
      // The reassignment fields go through the partition_change decoder,
      // which reads them as optional.
      json change = parts[i];
      change["type"] = "partition_change";
      change["topic"] = create.name;
      change["partition"] = static_cast<int32_t>(i);
      KREEK_ASSIGN_OR_RETURN(Record as_change, record_from_json(change));
      p.adding = std::get<PartitionChange>(as_change).adding;
      p.removing = std::get<PartitionChange>(as_change).removing;
      if (std::string why = check_reassignment(p.replicas, p.adding, p.removing); !why.empty())
        return corrupt("metadata snapshot: topic \"" + create.name + "\" partition " +
                       std::to_string(i) + ": " + why);
      info.partitions.push_back(std::move(p));
    }
    img.topics_[create.name] = std::move(info);
  }
  img.next_offset_ = next->get<int64_t>();
  return img;
}

}  // namespace kreek::coord
