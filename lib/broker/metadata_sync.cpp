// Local state from the cluster's metadata; see metadata_sync.h.
#include "broker/metadata_sync.h"

#include <algorithm>
#include <map>
#include <vector>

#include "base/log.h"
#include "broker/broker_context.h"
#include "storage/log_manager.h"

namespace kreek::broker {
namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// The override changes that turn `have` into `want` ("" removes a key).
std::map<std::string, std::string> config_changes(const std::map<std::string, std::string>& have,
                                                  const std::map<std::string, std::string>& want) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : want)
    if (auto it = have.find(k); it == have.end() || it->second != v) out[k] = v;
  for (const auto& [k, v] : have)
    if (want.count(k) == 0) out[k] = "";
  return out;
}

}  // namespace

void MetadataSync::count_changes(const PartitionState& was, const coord::PartitionInfo& now) {
  if (was.replicas.empty()) return;  // first sight of the partition: nothing changed
  Metrics& m = ctx_.metrics;
  if (was.leader != now.leader) ++m.leader_changes;
  NodeId self = ctx_.partitions.self();
  if (was.leader != self || now.leader != self) return;
  if (now.isr.size() < was.isr.size()) ++m.isr_shrinks;
  if (now.isr.size() > was.isr.size()) ++m.isr_expands;
}

void MetadataSync::apply_partition_states(const std::string& name, const coord::TopicInfo& cluster, int32_t count) {
  count = std::min<int32_t>(count, static_cast<int32_t>(cluster.partitions.size()));
  for (int32_t i = 0; i < count; ++i) {
    const coord::PartitionInfo& p = cluster.partitions[i];
    PartitionState& ps = ctx_.partitions.mutable_state(name, PartitionId(i));
    count_changes(ps, p);
    ps.leader = p.leader;
    ps.epoch = p.leader_epoch;
    ps.replicas = p.replicas;
    ps.isr = p.isr;
    ps.partition_epoch = p.partition_epoch;
    ps.adding = p.adding;
    ps.removing = p.removing;
  }
}

void MetadataSync::make_logs_off_loop(Result<std::unique_ptr<storage::NewLogs>> begun) {
  if (!begun.is_ok()) {
    log::error(begun.status().message());
    return;
  }
  // Shared so both functions may hold it; the loop thread alone frees it.
  std::shared_ptr<storage::NewLogs> job(std::move(*begun));
  storage::LogManager* logs = &ctx_.logs;
  std::weak_ptr<bool> alive = alive_;
  ctx_.loop->queue_work([logs, job] { logs->make_new_logs(*job); },
                        [this, alive, logs, job] {
                          const std::string name = job->topic.name;
                          const bool creates = job->creates_topic;
                          const size_t made = job->logs.size();
                          auto done = logs->finish_new_logs(std::make_unique<storage::NewLogs>(std::move(*job)));
                          if (alive.expired()) return;
                          if (done.is_ok()) {
                            log::info(std::string(creates ? "created topic " : "added partitions to ") + quoted(name) +
                                      ": " + std::to_string(made) + " new partition logs");
                            reapply_();
                          } else {
                            // Tried again with the next image, not at once: a
                            // full disk would make this a busy loop.
                            log::error(done.status().message() + " (from the cluster metadata)");
                          }
                          ctx_.topic_settled(name);
                        });
}

void MetadataSync::apply(const coord::MetadataImage& image) {
  // Local topics first: deleted ones go, unknown ones are registered.
  std::vector<std::string> local;
  for (const storage::TopicInfo* t : ctx_.logs.topics()) local.push_back(t->name);
  for (const std::string& name : local) {
    if (ctx_.logs.is_busy(name)) continue;  // settled when its new logs are in (reapply)
    const storage::TopicInfo* t = ctx_.logs.topic(name);
    const coord::TopicInfo* cluster = image.topic(name);
    if (cluster != nullptr && (t->topic_id == cluster->topic_id || t->topic_id.empty())) continue;
    if (t->topic_id.empty()) {
      // Never registered: a standalone data dir's topic. Offer it.
      if (registering_.insert(name).second) {
        log::info("registering local topic " + quoted(name) + " with the cluster");
        register_topic_(name);
      }
      continue;
    }
    // Deleted in the cluster (perhaps while this broker was away), or an older
    // topic under a name that now belongs to a new one: its data goes.
    log::info(cluster == nullptr ? "deleting topic " + quoted(name) + ": deleted in the cluster"
                                 : "deleting the old topic " + quoted(name) + " (id " + t->topic_id +
                                       "): the name now belongs to topic id " + cluster->topic_id);
    Status s = ctx_.logs.delete_topic(name);
    ctx_.on_topic_deleted(name);
    if (!s.is_ok()) log::error("delete topic " + quoted(name) + ": " + s.message());
  }

  for (const auto& [name, cluster] : image.topics()) {
    const storage::TopicInfo* t = ctx_.logs.topic(name);
    int32_t count = static_cast<int32_t>(cluster.partitions.size());
    // This broker keeps logs only of the partitions it is a replica of.
    std::set<int32_t> hosted;
    for (int32_t i = 0; i < count; ++i)
      if (cluster.partitions[i].is_replica(ctx_.partitions.self())) hosted.insert(i);
    // A topic getting new logs on a worker thread keeps the partitions it had
    // until they are in; then the whole image is applied again.
    const bool busy = ctx_.logs.is_busy(name);
    if (t == nullptr && busy) continue;
    if (t == nullptr && static_cast<int32_t>(hosted.size()) >= kOffLoopPartitions && ctx_.loop != nullptr) {
      make_logs_off_loop(ctx_.logs.begin_create_topic(name, count, cluster.config, cluster.topic_id, hosted));
      continue;
    }
    if (t == nullptr) {
      auto created = ctx_.logs.create_topic(name, count, cluster.config, cluster.topic_id, hosted);
      if (!created.is_ok()) {
        log::error("create topic " + quoted(name) + " from the cluster metadata: " + created.status().message());
        continue;
      }
      t = *created;
    } else if (t->topic_id.empty()) {
      // The cluster adopted a local topic: it keeps its data and takes the id.
      const coord::PartitionInfo& p0 = cluster.partitions[0];
      if (!(p0.replicas.size() == 1 && p0.replicas[0] == ctx_.partitions.self())) {
        if (conflicting_.insert(name).second)
          log::warn("local topic " + quoted(name) + " is not the cluster's topic of that name; its data is kept but not served");
        continue;
      }
      if (Status s = ctx_.logs.set_topic_id(name, cluster.topic_id); !s.is_ok()) {
        log::error("adopt topic " + quoted(name) + ": " + s.message());
        continue;
      }
      registering_.erase(name);
    }
    if (busy) {
      // Not a newer topic's states over this one's logs: its turn comes with
      // the reapply, which deletes this one first.
      if (t->topic_id == cluster.topic_id) apply_partition_states(name, cluster, t->partitions);
      continue;
    }
    if (auto changes = config_changes(t->overrides, cluster.config); !changes.empty()) {
      auto altered = ctx_.logs.alter_topic(name, changes);
      if (!altered.is_ok()) log::error("alter topic " + quoted(name) + ": " + altered.status().message());
    }
    if (t->partitions < count && count - t->partitions >= kOffLoopPartitions && ctx_.loop != nullptr) {
      make_logs_off_loop(ctx_.logs.begin_add_partitions(name, count, hosted));
      apply_partition_states(name, cluster, t->partitions);
      continue;
    }
    if (t->partitions < count) {
      auto grown = ctx_.logs.add_partitions(name, count, hosted);
      if (!grown.is_ok()) log::error("add partitions to " + quoted(name) + ": " + grown.status().message());
    }
    // A log this broker no longer needs (a reassignment moved its replica
    // away) goes, once the flusher, cleaner and parked fetches let go of it.
    for (int32_t i = 0; i < std::min(t->partitions, count); ++i) {
      if (hosted.count(i) != 0 || ctx_.logs.log(name, PartitionId(i)) == nullptr) continue;
      log::info("removing the log of " + name + "/" + std::to_string(i) + ": this broker is no longer a replica");
      ctx_.on_partition_removed(name, PartitionId(i));
      if (Status s = ctx_.logs.remove_partition(name, PartitionId(i)); !s.is_ok())
        log::error("remove the log of " + name + "/" + std::to_string(i) + ": " + s.message());
    }
    for (int32_t i = 0; i < t->partitions; ++i)
      if (ctx_.logs.log(name, PartitionId(i)) != nullptr) hosted.insert(i);
    if (Status s = ctx_.logs.set_hosted(name, hosted); !s.is_ok())
      log::error("partitions held of " + quoted(name) + ": " + s.message());
    apply_partition_states(name, cluster, count);
  }
  ctx_.cluster_id = image.cluster_id();
  ctx_.brokers.clear();
  for (const auto& [id, b] : image.brokers()) ctx_.brokers[id] = BrokerAddress{b.addr, b.rack, b.state};
}

}  // namespace kreek::broker
