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
#include <vector>

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
  // The same for one partition whose log is about to be removed.
  void forget_partition(const std::string& topic, PartitionId p);
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
  // Off the loop: fsyncs `dir` (if not empty) so the swap's renames are
  // durable, then writes the cleaner checkpoint. One write at a time; a newer
  // position waits for the write in flight.
  void persist(std::string dir);
  void write_next();

  BrokerContext& ctx_;
  std::shared_ptr<Job> job_;
  bool stopped_ = false;
  bool writing_ = false;
  std::vector<std::string> dirs_to_sync_;  // waiting for the next write
  bool checkpoint_pending_ = false;
};

}  // namespace kreek::broker
