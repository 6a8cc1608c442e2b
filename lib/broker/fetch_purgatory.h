// FetchPurgatory: long-poll fetches waiting for data (Kafka's "purgatory").
// Each parked fetch is listed under every partition it asks for; an append to
// one of them re-runs the read and answers if there is now enough data. One
// timer, armed for the earliest deadline, answers expired fetches with what
// they have (usually empty parts). Fetches of closed connections are dropped.
// Loop thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/strong_id.h"
#include "broker/fetch.h"
#include "broker/reply.h"
#include "net/net.h"

namespace kreek::broker {

struct BrokerContext;

class FetchPurgatory {
 public:
  explicit FetchPurgatory(BrokerContext& ctx);  // `ctx` must outlive this
  ~FetchPurgatory();

  // Parks `req` until data arrives for one of its parts or max_wait_ms passes.
  void park(FetchRequest req, Reply reply);
  // New data in topic/p: re-read its waiters and answer those now satisfied.
  // `followers_only`: the log grew but the high watermark did not move, so
  // consumers (who read below it) have nothing new; only followers re-read.
  void on_append(const std::string& topic, PartitionId p, bool followers_only = false);
  // A topic was deleted (or recreated): its waiters answer now (with errors).
  void on_topic_changed(const std::string& topic);
  // A partition's log is about to be removed: the fetches parked on it
  // answer now with what they have, so none waits on a log that is gone.
  void forget_partition(const std::string& topic, PartitionId p);
  // Shutdown: answer every parked fetch with what it has, and stop the timer.
  void complete_all();
  size_t size() const { return parked_.size(); }

 private:
  struct Parked {
    FetchRequest req;
    Reply reply;
    int64_t deadline_ms = 0;  // monotonic
  };
  using Key = std::pair<std::string, int32_t>;

  // Answers and forgets parked fetch `id` (dropping it if its peer has gone).
  void finish(uint64_t id, FetchOutcome* outcome);
  void arm_timer();
  void on_timer();

  BrokerContext& ctx_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Parked> parked_;
  std::map<Key, std::vector<uint64_t>> by_partition_;
  std::multimap<int64_t, uint64_t> deadlines_;
  std::unique_ptr<net::Timer> timer_;
  int64_t armed_for_ = INT64_MAX;
};

}  // namespace kreek::broker
