// Leaders' replication state and followers' fetchers; see replica_manager.h.
#include "broker/replica_manager.h"

#include <algorithm>

#include "base/clock.h"
#include "base/log.h"
#include "broker/broker_context.h"
#include "broker/coordinator_link.h"
#include "broker/fetch_purgatory.h"
#include "broker/replica_fetcher.h"
#include "storage/partition_log.h"

namespace kreek::broker {
namespace {

// How often the leader looks for followers that fell behind, and for
// acks=all waiters past their deadline.
constexpr int64_t kTickMs = 100;
// After the coordinator refused or missed an ISR change, wait this long
// before proposing one again (newer metadata usually arrives first).
constexpr int64_t kAlterRetryMs = 500;
// A healthy coordinator commits an ISR shrink in a few milliseconds; one not
// done after this long means the leader cannot reach it (isr_stalled()).
constexpr int64_t kStalledShrinkMs = 500;
// How often moved high watermarks are written to replication-offset-checkpoint
// (Kafka: 5 s). Only a restart reads it, and a leader recomputes its HW from
// its followers anyway; a lagging file just makes a restarted replica's
// consumers wait a little longer.
constexpr int64_t kHwCheckpointMs = 1000;

std::string where(const std::string& topic, PartitionId p) { return topic + "/" + std::to_string(p.value()); }

// The answer to an acks=all produce whose batch is in this leader's log but
// whose fate this broker can no longer follow: it may or may not be
// committed, so it is not NOT_LEADER (which says "not written") but the
// ambiguous, retriable REQUEST_TIMED_OUT (a retry may duplicate it unless
// the producer is idempotent).
Status undecided(const std::string& what, const std::string& why) {
  return Status(Code::kRequestTimedOut, what + ": " + why +
                                            " before the in-sync replicas confirmed the batch; it may or may not be committed");
}

std::string nodes_text(const std::vector<NodeId>& nodes) {
  std::string out = "[";
  for (size_t i = 0; i < nodes.size(); ++i) out += (i ? "," : "") + std::to_string(nodes[i].value());
  return out + "]";
}

}  // namespace

ReplicaManager::ReplicaManager(BrokerContext& ctx) : ctx_(ctx) {}

ReplicaManager::~ReplicaManager() { *alive_ = false; }

void ReplicaManager::start() {
  if (ctx_.loop == nullptr) return;
  timer_ = ctx_.loop->make_timer();
  timer_->start(kTickMs, kTickMs, [this] { tick(); });
}

void ReplicaManager::stop() {
  stopped_ = true;
  if (timer_) timer_->stop();
  if (wake_timer_) wake_timer_->stop();
  for (auto& [node, f] : fetchers_) f->stop();
  fetchers_.clear();
  for (auto& [key, l] : led_)
    for (auto& [end, w] : std::exchange(l.waiters, {}))
      w.done(undecided(where(key.first, PartitionId(key.second)), "the broker is stopping"));
}

ReplicaManager::Led* ReplicaManager::led(const std::string& topic, PartitionId p) {
  if (!ctx_.partitions.is_leader(topic, p)) return nullptr;
  Key key{topic, p.value()};
  auto it = led_.find(key);
  if (it == led_.end()) it = led_.emplace(key, Led{}).first;
  const PartitionState& ps = ctx_.partitions.get(topic, p);
  if (!it->second.state || it->second.state->epoch() != ps.epoch) become_leader(key, it->second);
  if (!it->second.state) return nullptr;
  return &it->second;
}

void ReplicaManager::become_leader(const Key& key, Led& l) {
  PartitionId p(key.second);
  storage::PartitionLog* log = ctx_.logs.log(key.first, p);
  if (log == nullptr) return;
  const PartitionState& ps = ctx_.partitions.get(key.first, p);
  // The epoch starts at the log end: offsets_for_epoch answers a follower of
  // an older epoch with where that epoch ended here.
  if (Status s = log->assign_epoch(ps.epoch, log->log_end()); !s.is_ok())
    log::error("record leader epoch " + std::to_string(ps.epoch.value()) + " of " + where(key.first, p) + ": " +
               s.message());
  bool first = !l.state;
  l.state = std::make_unique<repl::LeaderState>(ctx_.partitions.self(), ps.epoch, log->log_end(),
                                                log->high_watermark(), ps.replicas, ps.isr,
                                                ps.partition_epoch, clock::monotonic_ms());
  l.altering = false;  // an answer for the old epoch is ignored (see maybe_alter_isr)
  l.next_alter_ms = 0;
  l.shrink_asked_ms = 0;
  if (first && ctx_.coordinator != nullptr)
    log::info("leading " + where(key.first, p) + " at epoch " + std::to_string(ps.epoch.value()) + ", isr " +
              nodes_text(ps.isr) + ", log end " + std::to_string(log->log_end().value()));
  l.state->on_append(log->log_end());
  on_high_watermark(key, l);
}

void ReplicaManager::lose_leadership(const Key& key, Led& l, const Status& why) {
  for (auto& [end, w] : std::exchange(l.waiters, {})) w.done(why);
  l.state.reset();
}

void ReplicaManager::on_metadata() {
  if (stopped_) return;
  // Partitions this broker has a log of: lead, follow, or neither.
  std::map<int32_t, std::vector<std::pair<Key, LeaderEpoch>>> follow;  // by leader
  for (const auto& e : ctx_.logs.logs()) {
    Key key{e.topic->name, e.partition.value()};
    const PartitionState& ps = ctx_.partitions.get(key.first, e.partition);
    if (ps.leader == ctx_.partitions.self()) {
      Led& l = led_[key];
      if (l.state && l.state->epoch() == ps.epoch) {
        if (ps.partition_epoch != l.state->partition_epoch()) l.shrink_asked_ms = 0;  // the ISR changed
        if (l.state->on_metadata(ps.replicas, ps.isr, ps.partition_epoch)) on_high_watermark(key, l);
      } else {
        become_leader(key, l);
      }
      continue;
    }
    if (auto it = led_.find(key); it != led_.end()) {
      lose_leadership(key, it->second,
                      undecided(where(key.first, e.partition),
                                "it is now led by node " + std::to_string(ps.leader.value())));
      led_.erase(it);
    }
    bool replica = std::find(ps.replicas.begin(), ps.replicas.end(), ctx_.partitions.self()) != ps.replicas.end();
    if (ps.leader.value() >= 0 && replica) follow[ps.leader.value()].push_back({key, ps.epoch});
  }
  // Led entries of partitions whose log went away.
  for (auto it = led_.begin(); it != led_.end();) {
    if (ctx_.logs.log(it->first.first, PartitionId(it->first.second)) == nullptr) {
      lose_leadership(it->first, it->second, Status(Code::kUnknownTopic, "topic \"" + it->first.first + "\" was deleted"));
      it = led_.erase(it);
    } else {
      ++it;
    }
  }
  if (ctx_.loop == nullptr) return;
  // Each leader's fetcher follows exactly the partitions it leads for us now.
  for (auto it = fetchers_.begin(); it != fetchers_.end();) {
    if (follow.count(it->first) == 0) {
      it->second->stop();
      it = fetchers_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [leader, parts] : follow) {
    auto b = ctx_.brokers.find(leader);
    if (b == ctx_.brokers.end()) continue;
    auto& f = fetchers_[leader];
    if (!f) f = std::make_unique<ReplicaFetcher>(ctx_, NodeId(leader), b->second.addr);
    f->set_address(b->second.addr);
    f->assign(parts);
  }
}

void ReplicaManager::on_append(const std::string& topic, PartitionId p) {
  bool hw_moved = false;
  if (Led* l = led(topic, p)) {
    storage::PartitionLog* log = ctx_.logs.log(topic, p);
    if (log != nullptr && l->state->on_append(log->log_end())) {
      on_high_watermark({topic, p.value()}, *l);
      hw_moved = true;
    }
  }
  // Followers parked on this partition fetch the new bytes now; consumers
  // only when the high watermark moved (a lone in-sync replica), else when
  // the followers' fetches move it (wake_consumers_soon).
  ctx_.purgatory->on_append(topic, p, /*followers_only=*/!hw_moved);
}

Offset ReplicaManager::high_watermark(const std::string& topic, PartitionId p) {
  if (Led* l = led(topic, p)) return l->state->high_watermark();
  storage::PartitionLog* log = ctx_.logs.log(topic, p);
  return log == nullptr ? Offset(0) : log->high_watermark();
}

void ReplicaManager::on_follower_fetch(const std::string& topic, PartitionId p, NodeId follower, Offset offset,
                                       int64_t broker_epoch) {
  Led* l = led(topic, p);
  if (l == nullptr) return;
  int64_t now = clock::monotonic_ms();
  Key key{topic, p.value()};
  if (l->state->on_follower_fetch(follower, offset, now, broker_epoch)) {
    on_high_watermark(key, *l);
    wake_consumers_soon(key);
  }
  maybe_alter_isr(key, *l, now);
}

void ReplicaManager::wake_consumers_soon(const Key& key) {
  if (ctx_.loop == nullptr) return;  // unit tests: fetches never park
  if (std::find(to_wake_.begin(), to_wake_.end(), key) == to_wake_.end()) to_wake_.push_back(key);
  if (to_wake_.size() > 1) return;  // already armed
  if (!wake_timer_) wake_timer_ = ctx_.loop->make_timer();
  wake_timer_->start(0, 0, [this] {
    for (const Key& k : std::exchange(to_wake_, {})) ctx_.purgatory->on_append(k.first, PartitionId(k.second));
  });
}

void ReplicaManager::on_high_watermark(const Key& key, Led& l) {
  PartitionId p(key.second);
  Offset hw = l.state->high_watermark();
  if (storage::PartitionLog* log = ctx_.logs.log(key.first, p); log != nullptr && hw > log->high_watermark()) {
    log->set_high_watermark(hw);
    hw_dirty_ = true;
  }
  while (!l.waiters.empty() && l.waiters.begin()->first <= hw.value()) {
    auto done = std::move(l.waiters.begin()->second.done);
    l.waiters.erase(l.waiters.begin());
    done(Status::ok());
  }
}

void ReplicaManager::wait_for_high_watermark(const std::string& topic, PartitionId p, Offset end,
                                             int64_t timeout_ms, std::function<void(Status)> done) {
  Led* l = led(topic, p);
  if (l == nullptr) return done(ctx_.leadership(topic, p));
  if (l->state->high_watermark() >= end) return done(Status::ok());
  l->waiters.emplace(end.value(), Waiter{end, clock::monotonic_ms() + timeout_ms, std::move(done)});
}

bool ReplicaManager::isr_stalled(const std::string& topic, PartitionId p) {
  Led* l = led(topic, p);
  return l != nullptr && l->shrink_asked_ms != 0 && clock::monotonic_ms() - l->shrink_asked_ms > kStalledShrinkMs;
}

const std::vector<NodeId>* ReplicaManager::leader_isr(const std::string& topic, PartitionId p) {
  Led* l = led(topic, p);
  return l == nullptr ? nullptr : &l->state->isr();
}

const repl::LeaderState* ReplicaManager::leader_state(const std::string& topic, PartitionId p) {
  Led* l = led(topic, p);
  return l == nullptr ? nullptr : l->state.get();
}

void ReplicaManager::forget_topic(const std::string& topic) {
  for (auto it = led_.lower_bound({topic, INT32_MIN}); it != led_.end() && it->first.first == topic;) {
    lose_leadership(it->first, it->second, Status(Code::kUnknownTopic, "topic \"" + topic + "\" was deleted"));
    it = led_.erase(it);
  }
  for (auto& [node, f] : fetchers_) f->forget_topic(topic);
}

void ReplicaManager::forget_partition(const std::string& topic, PartitionId p) {
  if (auto it = led_.find({topic, p.value()}); it != led_.end()) {
    lose_leadership(it->first, it->second,
                    undecided(where(topic, p), "it moved away from this broker"));
    led_.erase(it);
  }
  // Fetchers drop it at the next on_metadata; until then its log is gone, so
  // whatever they receive for it is ignored.
}

void ReplicaManager::tick() {
  int64_t now = clock::monotonic_ms();
  if (hw_dirty_ && now - hw_written_ms_ >= kHwCheckpointMs) {
    hw_dirty_ = false;
    hw_written_ms_ = now;
    if (Status s = ctx_.logs.write_replication_checkpoint(); !s.is_ok())
      log::error("write the high watermark checkpoint: " + s.message());
  }
  for (auto& [key, l] : led_) {
    if (!l.state) continue;
    maybe_alter_isr(key, l, now);
    const bool stalled = l.shrink_asked_ms != 0 && now - l.shrink_asked_ms > kStalledShrinkMs;
    for (auto it = l.waiters.begin(); it != l.waiters.end();) {
      if (it->second.deadline_ms > now && !stalled) {
        ++it;
        continue;
      }
      auto done = std::move(it->second.done);
      it = l.waiters.erase(it);
      done(Status(Code::kRequestTimedOut,
                  where(key.first, PartitionId(key.second)) + ": the in-sync replicas " +
                      nodes_text(l.state->isr()) + " did not all copy the batch in time (high watermark " +
                      std::to_string(l.state->high_watermark().value()) + ")"));
    }
  }
}

void ReplicaManager::maybe_alter_isr(const Key& key, Led& l, int64_t now_ms) {
  if (ctx_.coordinator == nullptr || l.altering || stopped_ || now_ms < l.next_alter_ms) return;
  PartitionId p(key.second);
  const storage::TopicInfo* t = ctx_.logs.topic(key.first);
  if (t == nullptr) return;
  auto change = l.state->isr_change(now_ms, t->config.replica_lag_time_max_ms);
  std::vector<NodeId> before = l.state->isr();
  // A shrink is pending from when it is first asked for until the ISR no
  // longer holds a lagging follower (the change landed, or it caught up).
  const bool shrinks = change && std::any_of(before.begin(), before.end(), [&](NodeId n) {
    return std::find(change->begin(), change->end(), n) == change->end();
  });
  if (!shrinks) l.shrink_asked_ms = 0;
  if (!change) return;
  if (shrinks && l.shrink_asked_ms == 0) l.shrink_asked_ms = now_ms;
  // A follower that caught up but is not live again yet (a restart the
  // coordinator has not unfenced) would only be refused: add it later.
  std::erase_if(*change, [&](NodeId n) {
    if (std::find(before.begin(), before.end(), n) != before.end()) return false;
    auto b = ctx_.brokers.find(n.value());
    return b == ctx_.brokers.end() || b->second.state != coord::BrokerState::kLive;
  });
  if (*change == before) return;
  l.state->proposal_sent(*change);
  l.altering = true;
  proto::Json isr = proto::Json::array();
  for (NodeId n : *change) isr.push_back(n.value());
  proto::Json member_epochs = proto::Json::object();
  for (const repl::FollowerView& f : l.state->followers())
    if (f.broker_epoch >= 0) member_epochs[std::to_string(f.node.value())] = f.broker_epoch;
  proto::Json req = {{"op", "alter_partition"},
                     {"topic", key.first},
                     {"partition", key.second},
                     {"node", ctx_.partitions.self().value()},
                     {"broker_epoch", ctx_.coordinator->broker_epoch()},
                     {"leader_epoch", l.state->epoch().value()},
                     {"partition_epoch", l.state->partition_epoch()},
                     {"isr", isr},
                     {"member_epochs", member_epochs}};
  LeaderEpoch epoch = l.state->epoch();
  std::vector<NodeId> wanted = *change;
  ctx_.coordinator->call(std::move(req), [this, alive = alive_, key, epoch, before, wanted](Result<proto::Json> r) {
    if (!*alive) return;
    auto it = led_.find(key);
    if (it == led_.end() || !it->second.state || it->second.state->epoch() != epoch) return;
    it->second.altering = false;
    // Refused outright (the addition is not live, say): the partition did
    // not change, so the proposed members stop counting in the HW now.
    if (!r.is_ok() && r.status().code() == Code::kInvalidRequest)
      it->second.state->proposal_refused();
    else
      it->second.state->proposal_done();
    std::string what = where(key.first, PartitionId(key.second));
    if (r.is_ok()) {
      log::info("isr of " + what + " " + nodes_text(before) + " -> " + nodes_text(wanted));
    } else {
      // A stale epoch means newer metadata is on its way; anything else is
      // tried again at the next tick.
      log::warn("change the isr of " + what + " to " + nodes_text(wanted) + ": " + r.status().message());
      it->second.next_alter_ms = clock::monotonic_ms() + kAlterRetryMs;
    }
  });
}

}  // namespace kreek::broker
