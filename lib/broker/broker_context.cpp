// Shared handler state: topic lookup with auto-creation, topic deletion fan-out
// and the bad-request warning limiter.
#include "broker/broker_context.h"

#include "base/clock.h"
#include "broker/cluster_admin.h"
#include "broker/compaction_scheduler.h"
#include "broker/fetch_purgatory.h"
#include "broker/flush_scheduler.h"
#include "broker/group_coordinator.h"
#include "broker/replica_manager.h"
#include "proto/message.h"

namespace kreek::broker {

void WarnLimiter::flush() {
  int64_t now = clock::monotonic_ms();
  if (now - window_start_ms_ < 1000) return;
  if (suppressed_ > 0)
    log::warn(std::to_string(suppressed_) + " more bad requests and failed appends not logged (rate limit)");
  window_start_ms_ = now;
  in_window_ = 0;
  suppressed_ = 0;
}

bool WarnLimiter::admit(log::Level level) {
  flush();
  if (in_window_ < kPerSecond) {
    ++in_window_;
    return log::enabled(level);
  }
  ++suppressed_;
  return false;
}

void WarnLimiter::warn(std::string_view message, log::Level level) {
  if (admit(level)) log::write(level, message);
}

BrokerContext::BrokerContext(const BrokerConfig& config, storage::LogManager& logs,
                             net::EventLoop* loop)
    : config(config),
      logs(logs),
      loop(loop),
      address(config.listen),
      partitions(NodeId(config.node_id)),
      flusher(std::make_unique<FlushScheduler>(*this)),
      purgatory(std::make_unique<FetchPurgatory>(*this)),
      compactor(std::make_unique<CompactionScheduler>(*this)),
      replicas(std::make_unique<ReplicaManager>(*this)),
      groups(std::make_unique<GroupCoordinator>(*this)) {}

BrokerContext::~BrokerContext() = default;

Result<const storage::TopicInfo*> BrokerContext::find_topic(const std::string& name, bool create) {
  if (const storage::TopicInfo* t = logs.topic(name)) return t;
  if (logs.is_busy(name)) return Status(Code::kLeaderNotAvailable, "topic \"" + name + "\" is being created");
  // The offsets topic is made only by find_coordinator, with its own settings.
  if (!create || !config.auto_create || name == group::kOffsetsTopic)
    return Status(Code::kUnknownTopic, "topic \"" + name + "\" does not exist");
  if (coordinator != nullptr) {
    request_topic_creation(*this, name);
    return Status(Code::kLeaderNotAvailable, "topic \"" + name + "\" is being created");
  }
  auto created = logs.create_topic(name, config.default_partitions, {});
  if (!created.is_ok()) return created.status().with_context("auto-create topic \"" + name + "\"");
  log::info("created topic \"" + name + "\" with " + std::to_string(config.default_partitions) +
            (config.default_partitions == 1 ? " partition" : " partitions") + " (auto-create)");
  return *created;
}

Status BrokerContext::leadership(const std::string& topic, PartitionId p) {
  const PartitionState& ps = partitions.get(topic, p);
  if (ps.leader == partitions.self()) return Status::ok();
  std::string where = topic + "/" + std::to_string(p.value());
  if (ps.leader.value() < 0)
    return Status(Code::kLeaderNotAvailable, where + " has no leader now");
  auto it = brokers.find(ps.leader.value());
  std::string at = it == brokers.end() ? std::string() : " at " + it->second.addr;
  return Status(Code::kNotLeader, where + " is led by node " + std::to_string(ps.leader.value()) + at);
}

void BrokerContext::on_topic_deleted(const std::string& name) {
  flusher->forget_topic(name);
  compactor->forget_topic(name);
  purgatory->on_topic_changed(name);
  replicas->forget_topic(name);
  groups->on_topic_deleted(name);
  partitions.forget_topic(name);
  metrics.forget_topic(name);
  auto it = round_robin.find(name);
  if (it != round_robin.end()) round_robin.erase(it);
}

void BrokerContext::when_topic_settled(const std::string& name, std::function<void()> then) {
  if (!logs.is_busy(name)) return then();
  settling[name].push_back(std::move(then));
}

void BrokerContext::topic_settled(const std::string& name) {
  auto it = settling.find(name);
  if (it == settling.end()) return;
  auto waiting = std::move(it->second);
  settling.erase(it);
  // Busy again already (grown once more)? Then they wait for that too.
  for (auto& then : waiting) when_topic_settled(name, std::move(then));
}

void BrokerContext::on_partition_removed(const std::string& topic, PartitionId p) {
  flusher->forget_partition(topic, p);
  compactor->forget_partition(topic, p);
  purgatory->forget_partition(topic, p);
  replicas->forget_partition(topic, p);
}

}  // namespace kreek::broker

namespace kreek::broker {

void BrokerContext::reject(const Request& req, Reply& reply, const Status& status, bool silent,
                           const nlohmann::ordered_json* extra, bool close) {
  Code c = status.code();
  ++metrics.op(req.op).errors[c];
  std::string_view what = req.op.empty() ? std::string_view("request") : req.op;
  if (c == Code::kInvalidRequest || c == Code::kCorrupt || c == Code::kMessageTooLarge ||
      c == Code::kProtocol) {
    warnings.warn_lazily([&] {
      std::string from = req.peer.empty() ? std::string() : " from " + std::string(req.peer);
      return "bad " + std::string(what) + from + ": " + status.to_string() + ": " + log::sample(req.line);
    });
  } else if (log::enabled(log::Level::kDebug)) {
    log::debug(std::string(what) + " failed: " + status.to_string());
  }
  if (close) {
    reply.close_connection();
  } else if (silent) {
    reply.send_nothing();
  } else {
    reply.send(proto::error_line(req.id_raw, status, extra));
  }
}

}  // namespace kreek::broker
