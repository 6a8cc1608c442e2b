// CompactionScheduler: the broker's log cleaner. Every check interval it picks
// the compacted partition with the highest dirty ratio that is due
// (storage::Compactor::assess) and compacts it: the plan is made on the loop,
// the scan and rewrite run on a worker (EventLoop::queue_work), and the swap
// happens back on the loop, so produce and fetch never wait for it. One
// compaction at a time, like Kafka's single cleaner thread. Loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/strong_id.h"

namespace kreek::storage {
class CompactionPlan;
}

namespace kreek::broker {

struct BrokerContext;

class CompactionScheduler {
 public:
  explicit CompactionScheduler(BrokerContext& ctx);  // `ctx` must outlive this
  ~CompactionScheduler();

  // Periodic: starts a compaction of the most due partition unless one runs.
  void tick();
  // The topic was deleted: a compaction of it in flight is cancelled and its
  // result discarded.
  void forget_topic(const std::string& topic);
  // Shutdown: cancels the compaction in flight (its result is discarded) and
  // starts no more.
  void stop();
  bool in_flight() const { return job_ != nullptr; }

 private:
  struct Job {
    std::string topic;
    PartitionId partition;
    std::shared_ptr<storage::CompactionPlan> plan;
  };
  void start(const std::string& topic, PartitionId p);
  void finish();

  BrokerContext& ctx_;
  std::shared_ptr<Job> job_;
  bool stopped_ = false;
};

}  // namespace kreek::broker
