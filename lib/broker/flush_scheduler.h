// FlushScheduler: fsyncs partition logs off the loop thread and answers the
// produce requests waiting on them (group commit). At most one FlushPlan is in
// flight per partition; appends that arrive meanwhile wait for the next one,
// so one fsync acknowledges every batch it covers. Also drives the periodic
// flush.messages / flush.ms policy, the background sync of segments closed by
// rolls (whatever the policy) and the recovery-point checkpoint.
// Loop thread only; FlushPlan::run goes to EventLoop::queue_work.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/strong_id.h"
#include "broker/reply.h"

namespace kreek::broker {

struct BrokerContext;

class FlushScheduler {
 public:
  explicit FlushScheduler(BrokerContext& ctx);  // `ctx` must outlive this
  ~FlushScheduler();

  // Sends `line` through `reply` once an fsync covers everything appended to
  // topic/p so far. If the fsync fails the request gets IO_ERROR (with `id_raw`)
  // instead — never the acknowledgement — and the partition goes offline.
  // A flush that could not even open the partition directory (EMFILE) failed
  // no fsync: the request keeps waiting, and tick() tries the flush again.
  void reply_after_flush(const std::string& topic, PartitionId p, Reply reply, std::string id_raw,
                         std::string line);
  // Starts a flush of topic/p unless one is already in flight.
  void flush_partition(const std::string& topic, PartitionId p);
  // Starts a sync of topic/p's segments closed by rolls, unless a flush is in
  // flight (the next tick or append tries again).
  void flush_closed(const std::string& topic, PartitionId p);
  // Periodic: flushes logs due by flush.messages / flush.ms, syncs segments
  // closed by rolls, and writes the recovery-point checkpoint if flushes
  // advanced it (at most once per interval).
  void tick();
  // Starts a flush of every log with unsynced data (shutdown: the fsyncs run
  // on the worker threads side by side rather than one after another).
  void flush_everything();
  // Writes the checkpoint now if any flush advanced a recovery point.
  void checkpoint_now() { maybe_checkpoint(true); }
  // The topic was deleted: its waiters get UNKNOWN_TOPIC, in-flight flushes
  // finish without touching the (gone) log.
  void forget_topic(const std::string& topic);
  // The same for one partition whose log is about to be removed (its replica
  // moved to other brokers): waiters get NOT_LEADER.
  void forget_partition(const std::string& topic, PartitionId p);

  size_t in_flight() const { return in_flight_; }
  // Calls `cb` once no flush is in flight (now, if none is).
  void when_idle(std::function<void()> cb);

 private:
  struct Waiter {
    Reply reply;
    std::string id_raw;
    std::string line;
  };
  struct State {
    std::string topic;
    PartitionId partition;
    bool in_flight = false;
    bool orphaned = false;        // topic deleted
    bool retry = false;           // the last flush was put off (FlushPlan::retry)
    std::vector<Waiter> waiting;  // not covered by the flush in flight
  };
  std::shared_ptr<State> state(const std::string& topic, PartitionId p);
  // A full flush (answers the waiters), or only the segments closed by rolls.
  void start(const std::shared_ptr<State>& st, bool closed_only = false);
  void fail(std::vector<Waiter>& waiters, const Status& status);
  void maybe_checkpoint(bool force);
  // Logs a put-off flush at warn, at most once per kDeferredLogIntervalMs.
  void note_deferred(const std::string& where, const Status& why);

  static constexpr int64_t kDeferredLogIntervalMs = 10'000;

  BrokerContext& ctx_;
  std::map<std::pair<std::string, int32_t>, std::shared_ptr<State>> states_;
  size_t in_flight_ = 0;
  bool checkpoint_dirty_ = false;
  int64_t last_checkpoint_ms_ = 0;
  std::vector<std::function<void()>> idle_callbacks_;
  int64_t last_deferred_log_ms_ = 0;
  int64_t deferred_suppressed_ = 0;
};

}  // namespace kreek::broker
