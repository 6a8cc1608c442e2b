// The coordinator's decisions; see controller.h. Multi-record decisions are
// built on a scratch copy of the image (Pending), so each record is decided
// against the state the records before it leave, exactly as replay will see it.
#include "coord/controller.h"

#include <algorithm>
#include <optional>

#include "base/base.h"
#include "coord/placement.h"

namespace kreek::coord {
namespace {

std::string node_name(NodeId n) { return "node " + std::to_string(n.value()); }

std::vector<NodeId> without(std::vector<NodeId> v, NodeId n) {
  v.erase(std::remove(v.begin(), v.end(), n), v.end());
  return v;
}

// Records decided so far and the image they lead to. The copy is made on the
// first record, so a decision that changes nothing copies nothing.
class Pending {
 public:
  explicit Pending(const MetadataImage& base) : base_(base) {}

  const MetadataImage& image() const { return copy_ ? *copy_ : base_; }
  void add(Record r) {
    if (!copy_) copy_.emplace(base_);
    // Invariant: the controller only decides records that fit the image.
    KREEK_CHECK(copy_->apply(copy_->next_offset(), r).is_ok());
    records_.push_back(std::move(r));
  }
  // A PartitionChange to (leader, isr), bumping the leader epoch if the leader moves.
  void change(const std::string& topic, int32_t index, NodeId leader, std::vector<NodeId> isr) {
    const PartitionInfo& p = *image().partition(topic, index);
    PartitionInfo next = p;
    next.leader = leader;
    next.isr = std::move(isr);
    set(topic, index, std::move(next));
  }
  // A PartitionChange to `next`'s replicas, leader, ISR and reassignment
  // (its epochs are ignored: they follow from the change), if anything changed.
  void set(const std::string& topic, int32_t index, PartitionInfo next) {
    const PartitionInfo& p = *image().partition(topic, index);
    if (next.replicas == p.replicas && next.leader == p.leader && next.isr == p.isr &&
        next.adding == p.adding && next.removing == p.removing)
      return;
    PartitionChange c{topic, index, std::move(next.replicas), next.leader,
                      next.leader == p.leader ? p.leader_epoch : p.leader_epoch + 1, std::move(next.isr),
                      p.partition_epoch + 1, std::move(next.adding), std::move(next.removing)};
    add(std::move(c));
  }
  std::vector<Record> take() { return std::move(records_); }

 private:
  const MetadataImage& base_;
  std::optional<MetadataImage> copy_;
  std::vector<Record> records_;
};

// Calls fn(topic name, index, partition) for every partition, on a snapshot of
// the names so fn may add records (which never add or remove topics here).
template <typename Fn>
void for_each_partition(const Pending& s, Fn fn) {
  std::vector<std::pair<std::string, int32_t>> all;
  for (const auto& [name, t] : s.image().topics())
    for (int32_t i = 0; i < static_cast<int32_t>(t.partitions.size()); ++i) all.emplace_back(name, i);
  for (const auto& [name, i] : all) fn(name, i, *s.image().partition(name, i));
}

bool contains(const std::vector<NodeId>& v, NodeId n) {
  return std::find(v.begin(), v.end(), n) != v.end();
}

// Completes topic/index's reassignment if every target replica is in the ISR:
// the removed replicas leave the replicas and the ISR, and a leader among
// them hands over to the target's first eligible ISR member. A partition
// whose leader is being removed and that no target replica can lead yet
// waits (completing would leave it leaderless).
void complete_reassignment(const Controller& c, Pending& s, const std::string& name, int32_t index) {
  const PartitionInfo& p = *s.image().partition(name, index);
  if (!p.is_reassigning()) return;
  std::vector<NodeId> target = p.target();
  for (NodeId n : target)
    if (!p.in_isr(n)) return;
  PartitionInfo next = p;
  next.replicas = target;
  next.adding.clear();
  next.removing.clear();
  next.isr.clear();
  for (NodeId n : p.isr)
    if (contains(target, n)) next.isr.push_back(n);
  if (p.has_leader() && !contains(target, p.leader)) {
    next.leader = c.choose_leader(s.image(), *s.image().topic(name), next, /*isr_only=*/true);
    if (next.leader == kNoLeader) return;
  }
  s.set(name, index, std::move(next));
}

}  // namespace

bool Controller::unclean_allowed(const TopicInfo& topic) const {
  auto it = topic.config.find("unclean.leader.election.enable");
  if (it == topic.config.end()) return config_.unclean_leader_election;
  return it->second == "true";
}

NodeId Controller::choose_leader(const MetadataImage& image, const TopicInfo& topic,
                                 const PartitionInfo& p, bool isr_only) const {
  for (NodeId r : p.replicas)
    if (p.in_isr(r) && image.is_eligible(r)) return r;
  if (!isr_only && unclean_allowed(topic))
    for (NodeId r : p.replicas)
      if (image.is_eligible(r) && !contains(p.adding, r)) return r;
  return kNoLeader;
}

Result<std::vector<Record>> Controller::register_broker(const MetadataImage& image,
                                                        const RegisterBroker& request) const {
  if (request.node.value() < 0) return invalid_request("node id must not be negative");
  Pending s(image);
  const BrokerInfo* old = image.broker(request.node);
  if (old != nullptr && old->state != BrokerState::kFenced) {
    if (old->data_dir_id != request.data_dir_id)
      return Status(Code::kDuplicateBroker,
                    node_name(request.node) + " is already held by a live broker at " + old->addr +
                        "; give this broker another --node-id");
    // The same data dir again: the old process died or is being replaced.
    for (Record& r : fence(image, request.node)) s.add(std::move(r));
  }
  if (old != nullptr && old->data_dir_id != request.data_dir_id) {
    // Another disk under the same id holds none of the old replicas' records:
    // it leaves every ISR, even as the last member (the partition then waits
    // for an unclean election rather than be led by an empty log).
    for_each_partition(s, [&](const std::string& name, int32_t i, const PartitionInfo& p) {
      if (p.in_isr(request.node)) s.change(name, i, p.leader, without(p.isr, request.node));
    });
  }
  s.add(request);
  return s.take();
}

Result<HeartbeatDecision> Controller::heartbeat(const MetadataImage& image,
                                                const HeartbeatRequest& request) const {
  const BrokerInfo* b = image.broker(request.node);
  if (b == nullptr || b->broker_epoch != request.broker_epoch)
    return Status(Code::kFencedEpoch, "broker epoch " + std::to_string(request.broker_epoch) +
                                          " is not the current registration of " +
                                          node_name(request.node) + "; register again");
  HeartbeatDecision out;
  Pending s(image);
  const NodeId node = request.node;

  if (request.want_shutdown) {
    if (b->state == BrokerState::kFenced) {
      out.shutdown_ready = true;
      return out;
    }
    if (b->state == BrokerState::kLive) s.add(BeginShutdown{node, b->broker_epoch});
    bool leads_movable = false;
    for_each_partition(s, [&](const std::string& name, int32_t i, const PartitionInfo& p) {
      if (p.leader == node) {
        // Never unclean here: a broker that is still running and in sync
        // would be handing its records to a replica that lacks them.
        NodeId next = choose_leader(s.image(), *s.image().topic(name), p, /*isr_only=*/true);
        if (next == kNoLeader) return;  // nowhere to go: it leads until it stops
        leads_movable = true;
        s.change(name, i, next, without(p.isr, node));
      } else if (p.in_isr(node) && p.isr.size() > 1) {
        s.change(name, i, p.leader, without(p.isr, node));
      }
    });
    // Ready once the broker has seen every change made for it, so the last
    // leaderships it gave up are ones it knows it gave up.
    bool seen_all = request.applied_offset + 1 >= s.image().next_offset();
    if (!leads_movable && seen_all) {
      for (Record& r : fence(s.image(), node)) s.add(std::move(r));
      out.shutdown_ready = true;
    }
    out.records = s.take();
    return out;
  }

  if (b->state == BrokerState::kFenced && request.applied_offset >= b->state_offset) {
    s.add(UnfenceBroker{node, b->broker_epoch});
    for_each_partition(s, [&](const std::string& name, int32_t i, const PartitionInfo& p) {
      if (p.has_leader() || !p.is_replica(node)) return;
      NodeId next = choose_leader(s.image(), *s.image().topic(name), p);
      if (next == kNoLeader) return;
      s.change(name, i, next, p.in_isr(next) ? p.isr : std::vector<NodeId>{next});
    });
  }
  out.records = s.take();
  return out;
}

std::vector<Record> Controller::fence(const MetadataImage& image, NodeId node) const {
  const BrokerInfo* b = image.broker(node);
  if (b == nullptr || b->state == BrokerState::kFenced) return {};
  Pending s(image);
  s.add(FenceBroker{node, b->broker_epoch});
  for_each_partition(s, [&](const std::string& name, int32_t i, const PartitionInfo& p) {
    if (p.leader != node && !p.in_isr(node)) return;
    // The last ISR member stays in the ISR: it is where the committed log
    // lives, and an election from the ISR must wait for it to come back.
    std::vector<NodeId> isr = p.isr.size() > 1 ? without(p.isr, node) : p.isr;
    NodeId leader = p.leader;
    if (leader == node) {
      PartitionInfo shrunk = p;
      shrunk.isr = isr;
      leader = choose_leader(s.image(), *s.image().topic(name), shrunk);
      if (leader != kNoLeader && !shrunk.in_isr(leader)) isr = {leader};  // unclean election
    }
    s.change(name, i, leader, std::move(isr));
  });
  return s.take();
}

Result<std::vector<Record>> Controller::alter_partition(const MetadataImage& image,
                                                        const AlterPartitionRequest& r) const {
  const TopicInfo* t = image.topic(r.topic);
  if (t == nullptr) return Status(Code::kUnknownTopic, "topic \"" + r.topic + "\" does not exist");
  const PartitionInfo* p = image.partition(r.topic, r.partition);
  if (p == nullptr)
    return Status(Code::kUnknownPartition,
                  "topic \"" + r.topic + "\" has no partition " + std::to_string(r.partition));
  const BrokerInfo* b = image.broker(r.node);
  if (b == nullptr || b->broker_epoch != r.broker_epoch || b->state == BrokerState::kFenced)
    return Status(Code::kFencedEpoch, node_name(r.node) + " at broker epoch " +
                                          std::to_string(r.broker_epoch) + " is fenced");
  std::string where = r.topic + "/" + std::to_string(r.partition);
  if (p->leader != r.node || p->leader_epoch != r.leader_epoch)
    return Status(p->leader_epoch > r.leader_epoch ? Code::kFencedEpoch : Code::kNotLeader,
                  where + " is led by node " + std::to_string(p->leader.value()) + " at leader epoch " +
                      std::to_string(p->leader_epoch.value()));
  if (p->partition_epoch != r.partition_epoch)
    return Status(Code::kFencedEpoch, where + " is at partition epoch " +
                                          std::to_string(p->partition_epoch) + ", not " +
                                          std::to_string(r.partition_epoch));
  if (std::find(r.isr.begin(), r.isr.end(), r.node) == r.isr.end())
    return invalid_request("the new ISR of " + where + " must hold its leader");
  for (NodeId n : r.isr) {
    if (!p->is_replica(n)) return invalid_request(node_name(n) + " is not a replica of " + where);
    if (std::count(r.isr.begin(), r.isr.end(), n) > 1)
      return invalid_request(node_name(n) + " is listed twice in the ISR of " + where);
    if (p->in_isr(n)) continue;
    if (!image.is_eligible(n))
      return invalid_request(node_name(n) + " cannot join the ISR of " + where + ": it is not live");
    // The leader's view of a new member must be of its current registration:
    // a broker that came back (perhaps on an empty disk) may not join on the
    // log end its previous run reached.
    auto seen = r.member_epochs.find(n.value());
    const BrokerInfo* m = image.broker(n);
    if (seen == r.member_epochs.end() || m == nullptr || m->broker_epoch != seen->second)
      return invalid_request(node_name(n) + " cannot join the ISR of " + where + ": the leader saw it at broker epoch " +
                             (seen == r.member_epochs.end() ? std::string("(none)") : std::to_string(seen->second)) +
                             ", its registration is " + (m == nullptr ? std::string("gone") : std::to_string(m->broker_epoch)));
  }
  Pending s(image);
  s.change(r.topic, r.partition, p->leader, r.isr);
  // The ISR expansion a reassignment waits for lands here.
  complete_reassignment(*this, s, r.topic, r.partition);
  return s.take();
}

Result<std::vector<Record>> Controller::alter_reassignment(const MetadataImage& image,
                                                           const std::string& topic, int32_t partition,
                                                           std::optional<std::vector<NodeId>> target) const {
  if (image.topic(topic) == nullptr)
    return Status(Code::kUnknownTopic, "topic \"" + topic + "\" does not exist");
  const PartitionInfo* p = image.partition(topic, partition);
  std::string where = topic + "/" + std::to_string(partition);
  if (p == nullptr)
    return Status(Code::kUnknownPartition,
                  "topic \"" + topic + "\" has no partition " + std::to_string(partition));
  // The replicas the partition had before any reassignment now running.
  std::vector<NodeId> original;
  for (NodeId n : p->replicas)
    if (!contains(p->adding, n)) original.push_back(n);

  std::vector<NodeId> want;
  if (target) {
    want = std::move(*target);
    if (want.empty()) return invalid_request("the new replicas of " + where + " must not be empty");
    for (NodeId n : want) {
      if (std::count(want.begin(), want.end(), n) > 1)
        return invalid_request(node_name(n) + " is listed twice in the new replicas of " + where);
      if (image.broker(n) == nullptr) return invalid_request(node_name(n) + " is not registered");
    }
  } else {
    if (!p->is_reassigning()) return invalid_request("no reassignment of " + where + " is in progress");
    want = original;
  }

  PartitionInfo next = *p;
  next.replicas = want;
  next.adding.clear();
  next.removing.clear();
  for (NodeId n : want)
    if (!contains(original, n)) next.adding.push_back(n);
  for (NodeId n : original)
    if (!contains(want, n)) next.replicas.push_back(n), next.removing.push_back(n);
  // Replicas added by a reassignment this one replaces, and not wanted now,
  // leave at once: they never held anything the partition needs.
  next.isr.clear();
  for (NodeId n : p->isr)
    if (contains(next.replicas, n)) next.isr.push_back(n);
  if (next.isr.empty() && !p->isr.empty())
    return invalid_request("the new replicas of " + where + " would leave it no in-sync replica");
  if (p->has_leader() && !contains(next.replicas, p->leader)) {
    next.leader = choose_leader(image, *image.topic(topic), next, /*isr_only=*/true);
    if (next.leader == kNoLeader)
      return invalid_request("no in-sync replica of " + where + " could lead after the change");
  }
  Pending s(image);
  s.set(topic, partition, std::move(next));
  // A target already in sync (a reorder, or fewer replicas) completes at once.
  complete_reassignment(*this, s, topic, partition);
  return s.take();
}

Result<std::vector<Record>> Controller::create_topic(const MetadataImage& image,
                                                     const CreateTopicRequest& r) const {
  if (std::string why = topic_name_problem(r.name); !why.empty()) return invalid_request(why);
  if (image.topic(r.name) != nullptr)
    return Status(Code::kTopicExists, "topic \"" + r.name + "\" already exists");
  if (r.partitions < 1 || r.partitions > kMaxPartitions)
    return invalid_request("partitions must be between 1 and " + std::to_string(kMaxPartitions));

  std::vector<std::vector<NodeId>> replicas = r.replicas;
  if (replicas.empty()) {
    std::vector<PlacementBroker> live;
    std::map<int32_t, int64_t> leads;
    for (const auto& [id, b] : image.brokers())
      if (image.is_eligible(b.node)) live.push_back({b.node, b.rack}), leads[id] = 0;
    for (const auto& [name, t] : image.topics())
      for (const auto& p : t.partitions)
        if (leads.count(p.leader.value()) != 0) ++leads[p.leader.value()];
    NodeId start = kNoLeader;
    int64_t fewest = INT64_MAX;
    for (const auto& [id, n] : leads)
      if (n < fewest) fewest = n, start = NodeId(id);
    KREEK_ASSIGN_OR_RETURN(replicas, place_replicas(std::move(live), 0, r.partitions,
                                                    r.replication_factor, start));
  } else if (static_cast<int32_t>(replicas.size()) != r.partitions) {
    return invalid_request("replica lists for " + std::to_string(replicas.size()) + " of " +
                           std::to_string(r.partitions) + " partitions");
  }

  CreateTopic rec{r.name, r.topic_id, r.config, {}};
  TopicInfo as_topic{r.name, r.topic_id, r.config, {}};
  for (auto& list : replicas) {
    for (NodeId n : list)
      if (image.broker(n) == nullptr) return invalid_request(node_name(n) + " is not registered");
    PartitionInfo p;
    p.replicas = list;
    p.isr = list;
    NodeId leader = choose_leader(image, as_topic, p);
    // A partition no live replica can lead waits, with every replica in its
    // ISR, for the first of them to come back.
    rec.partitions.push_back(PartitionAssignment{list, leader, list});
  }
  Pending s(image);
  s.add(std::move(rec));
  return s.take();
}

Result<std::vector<Record>> Controller::delete_topic(const MetadataImage& image,
                                                     const std::string& name) const {
  const TopicInfo* t = image.topic(name);
  if (t == nullptr) return Status(Code::kUnknownTopic, "topic \"" + name + "\" does not exist");
  return std::vector<Record>{DeleteTopic{name, t->topic_id}};
}

Result<std::vector<Record>> Controller::alter_topic_config(
    const MetadataImage& image, const std::string& name,
    std::map<std::string, std::string> config) const {
  const TopicInfo* t = image.topic(name);
  if (t == nullptr) return Status(Code::kUnknownTopic, "topic \"" + name + "\" does not exist");
  if (t->config == config) return std::vector<Record>{};
  return std::vector<Record>{AlterTopicConfig{name, std::move(config)}};
}

Result<std::vector<Record>> Controller::create_partitions(const MetadataImage& image,
                                                          const std::string& name,
                                                          int32_t total) const {
  const TopicInfo* t = image.topic(name);
  if (t == nullptr) return Status(Code::kUnknownTopic, "topic \"" + name + "\" does not exist");
  int32_t have = static_cast<int32_t>(t->partitions.size());
  if (total <= have)
    return invalid_request("topic \"" + name + "\" has " + std::to_string(have) +
                           " partitions; the count can only grow");
  if (total > kMaxPartitions)
    return invalid_request("partitions must be between 1 and " + std::to_string(kMaxPartitions));
  std::vector<PlacementBroker> live;
  for (const auto& [id, b] : image.brokers())
    if (image.is_eligible(b.node)) live.push_back({b.node, b.rack});
  int32_t rf = static_cast<int32_t>(t->partitions[0].replicas.size());
  NodeId start = live.empty() ? kNoLeader : live[0].node;
  KREEK_ASSIGN_OR_RETURN(auto replicas, place_replicas(std::move(live), have, total - have, rf, start));
  CreatePartitions rec{name, {}};
  for (auto& list : replicas) rec.partitions.push_back(PartitionAssignment{list, list[0], list});
  return std::vector<Record>{std::move(rec)};
}

std::vector<Record> Controller::elect_leaders(const MetadataImage& image) const {
  Pending s(image);
  for_each_partition(s, [&](const std::string& name, int32_t i, const PartitionInfo& p) {
    if (!p.has_leader()) {
      NodeId next = choose_leader(s.image(), *s.image().topic(name), p);
      if (next != kNoLeader) s.change(name, i, next, p.in_isr(next) ? p.isr : std::vector<NodeId>{next});
      return;
    }
    NodeId preferred = p.replicas[0];
    if (p.leader != preferred && p.in_isr(preferred) && image.is_eligible(preferred))
      s.change(name, i, preferred, p.isr);
    complete_reassignment(*this, s, name, i);
  });
  return s.take();
}

std::vector<Record> Controller::init_cluster(const MetadataImage& image, std::string cluster_id) const {
  if (!image.cluster_id().empty()) return {};
  return {InitCluster{std::move(cluster_id)}};
}

std::vector<Record> Controller::allocate_producer_ids(const MetadataImage& image,
                                                      int64_t count) const {
  return {AllocateProducerIds{image.next_producer_id(), count}};
}

}  // namespace kreek::coord
