// Group commit and the periodic flush policy; see flush_scheduler.h.
#include "broker/flush_scheduler.h"

#include <iterator>

#include "base/clock.h"
#include "base/log.h"
#include "broker/broker_context.h"
#include "proto/message.h"
#include "storage/partition_log.h"

namespace kreek::broker {

FlushScheduler::FlushScheduler(BrokerContext& ctx) : ctx_(ctx) {}
FlushScheduler::~FlushScheduler() = default;

std::shared_ptr<FlushScheduler::State> FlushScheduler::state(const std::string& topic,
                                                             PartitionId p) {
  auto& slot = states_[{topic, p.value()}];
  if (!slot) {
    slot = std::make_shared<State>();
    slot->topic = topic;
    slot->partition = p;
  }
  return slot;
}

void FlushScheduler::reply_after_flush(const std::string& topic, PartitionId p, Reply reply,
                                       std::string id_raw, std::string line) {
  auto st = state(topic, p);
  st->waiting.push_back(Waiter{std::move(reply), std::move(id_raw), std::move(line)});
  if (!st->in_flight) start(st);
}

void FlushScheduler::flush_partition(const std::string& topic, PartitionId p) {
  auto st = state(topic, p);
  if (!st->in_flight) start(st);
}

void FlushScheduler::flush_closed(const std::string& topic, PartitionId p) {
  auto st = state(topic, p);
  if (!st->in_flight) start(st, /*closed_only=*/true);
}

void FlushScheduler::fail(std::vector<Waiter>& waiters, const Status& status) {
  for (auto& w : waiters) w.reply.send(proto::error_line(w.id_raw, status));
  waiters.clear();
}

void FlushScheduler::start(const std::shared_ptr<State>& st, bool closed_only) {
  storage::PartitionLog* log = ctx_.logs.log(st->topic, st->partition);
  if (st->orphaned || log == nullptr) {
    fail(st->waiting, Status(Code::kUnknownTopic, "topic \"" + st->topic +
                                                      "\" was deleted before the append was flushed"));
    return;
  }
  const PartitionState& ps = ctx_.partitions.get(st->topic, st->partition);
  if (ps.offline) {
    fail(st->waiting, io_error(ps.offline_reason));
    return;
  }
  st->retry = false;
  auto plan = std::make_shared<storage::FlushPlan>(closed_only ? log->begin_flush_closed()
                                                                : log->begin_flush());
  if (closed_only && plan->segments.empty()) return;
  st->in_flight = true;
  ++in_flight_;
  auto covered = std::make_shared<std::vector<Waiter>>();
  if (!closed_only) covered->swap(st->waiting);
  auto result = std::make_shared<Status>();
  auto took_us = std::make_shared<int64_t>(-1);  // how long the fsyncs took, for the metrics

  auto finish = [this, st, plan, covered, result, took_us] {
    if (*took_us >= 0) ctx_.metrics.flush_latency.observe_us(*took_us);
    --in_flight_;
    st->in_flight = false;
    std::string where = st->topic + "/" + std::to_string(st->partition.value());
    if (!result->is_ok() && plan->retry && !st->orphaned) {
      // Not an fsync failure: the directory could not be opened (EMFILE), so
      // nothing is known lost, the flush is only not done. The log takes the
      // segments back (the recovery point stays), the waiters wait for the
      // next attempt, which tick() makes: retrying at once would spin while
      // descriptors stay short.
      if (storage::PartitionLog* l = ctx_.logs.log(st->topic, st->partition)) l->end_flush(*plan);
      covered->insert(covered->end(), std::make_move_iterator(st->waiting.begin()),
                      std::make_move_iterator(st->waiting.end()));
      st->waiting = std::move(*covered);
      covered->clear();
      st->retry = true;
      note_deferred(where, *result);
    } else if (result->is_ok()) {
      if (!st->orphaned) {
        if (storage::PartitionLog* l = ctx_.logs.log(st->topic, st->partition)) l->end_flush(*plan);
        checkpoint_dirty_ = true;
      }
      for (auto& w : *covered) w.reply.send(std::move(w.line));
      covered->clear();
    } else {
      // Never retry-and-ack after a failed fsync: the kernel may already have
      // dropped the dirty pages, so the data is not known to be on disk.
      Status s = result->with_context("fsync " + where);
      log::error(s.message() + "; partition taken offline for produce");
      if (!st->orphaned) {
        // The log freezes its recovery point, so not even the shutdown flush
        // can mark these bytes as safely on disk.
        if (storage::PartitionLog* l = ctx_.logs.log(st->topic, st->partition)) l->end_flush(*plan);
        PartitionState& ps = ctx_.partitions.mutable_state(st->topic, st->partition);
        ps.offline = true;
        ps.offline_reason = "partition " + where + " is offline after a failed fsync";
      }
      fail(*covered, s);
    }
    if (!st->waiting.empty() && !st->retry) start(st);
    maybe_checkpoint(false);
    if (in_flight_ == 0 && !idle_callbacks_.empty()) {
      auto cbs = std::move(idle_callbacks_);
      idle_callbacks_.clear();
      for (auto& cb : cbs) cb();
    }
  };

  if (ctx_.loop == nullptr || plan->segments.empty()) {
    *result = plan->run();  // nothing to sync, or no loop (unit tests): inline
    finish();
    return;
  }
  ctx_.loop->queue_work(
      [plan, result, took_us] {
        int64_t start = steady_us();
        *result = plan->run();
        *took_us = steady_us() - start;
      },
      std::move(finish));
}

void FlushScheduler::note_deferred(const std::string& where, const Status& why) {
  // Rate-limited: while descriptors stay short every tick fails again.
  int64_t now = clock::monotonic_ms();
  if (last_deferred_log_ms_ != 0 && now - last_deferred_log_ms_ < kDeferredLogIntervalMs) {
    ++deferred_suppressed_;
    return;
  }
  std::string more = deferred_suppressed_ > 0
                         ? " (" + std::to_string(deferred_suppressed_) + " more put off since the last report)"
                         : std::string();
  log::warn("flush " + where + " put off, to be tried again: " + why.message() + more);
  last_deferred_log_ms_ = now;
  deferred_suppressed_ = 0;
}

void FlushScheduler::tick() {
  int64_t now = clock::monotonic_ms();
  // Flushes put off for want of a descriptor, with produce requests waiting.
  for (const auto& [key, st] : states_)
    if (st->retry && !st->in_flight && !st->waiting.empty()) start(st);
  for (const auto& e : ctx_.logs.logs()) {
    int64_t n = e.log->unflushed_messages();
    const storage::LogConfig& c = e.log->config();
    if (n > 0 && (n >= c.flush_messages || now - e.log->first_unflushed_ms() >= c.flush_ms)) {
      flush_partition(e.topic->name, e.partition);
    } else if (e.log->has_unsynced_closed()) {
      // A rolled segment is synced soon after the roll, off the loop, so the
      // recovery point keeps up and shutdown has only active segments left.
      flush_closed(e.topic->name, e.partition);
    }
  }
  maybe_checkpoint(false);
}

void FlushScheduler::flush_everything() {
  for (const auto& e : ctx_.logs.logs())
    if (e.log->has_unsynced()) flush_partition(e.topic->name, e.partition);
}

void FlushScheduler::forget_topic(const std::string& topic) {
  for (auto it = states_.lower_bound({topic, INT32_MIN});
       it != states_.end() && it->first.first == topic;) {
    auto st = it->second;
    st->orphaned = true;
    if (!st->in_flight)
      fail(st->waiting, Status(Code::kUnknownTopic, "topic \"" + topic +
                                                        "\" was deleted before the append was flushed"));
    it = states_.erase(it);
  }
}

void FlushScheduler::forget_partition(const std::string& topic, PartitionId p) {
  auto it = states_.find({topic, p.value()});
  if (it == states_.end()) return;
  auto st = it->second;
  st->orphaned = true;
  if (!st->in_flight)
    fail(st->waiting, Status(Code::kNotLeader, topic + "/" + std::to_string(p.value()) +
                                                   " moved to other brokers before the append was flushed"));
  states_.erase(it);
}

void FlushScheduler::when_idle(std::function<void()> cb) {
  if (in_flight_ == 0) {
    cb();
    return;
  }
  idle_callbacks_.push_back(std::move(cb));
}

void FlushScheduler::maybe_checkpoint(bool force) {
  if (!checkpoint_dirty_) return;
  int64_t now = clock::monotonic_ms();
  if (!force && now - last_checkpoint_ms_ < ctx_.config.checkpoint_interval_ms) return;
  // Limitation: the checkpoint (a small file, fsynced) is written on the loop
  // thread; at most once per checkpoint_interval_ms, so the stall is bounded.
  Status s = ctx_.logs.write_recovery_checkpoint();
  last_checkpoint_ms_ = now;
  if (!s.is_ok()) {
    log::error("write recovery checkpoint: " + s.message());
    return;
  }
  checkpoint_dirty_ = false;
}

}  // namespace kreek::broker
