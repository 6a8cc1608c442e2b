// FetchPurgatory: long-poll fetches waiting for data (Kafka's "purgatory").
// Each parked fetch is listed under every partition it asks for; an append to
// one of them re-reads that one part (not the whole fetch: a fetch may name
// thousands) and adds what it found to the fetch's tally; the full read runs
// once, when the tally reaches min_bytes and the fetch is answered. One
// timer, armed for the earliest deadline, answers expired fetches with what
// they have (usually empty parts). Fetches of closed connections are dropped.
// Loop thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <string>
#include <string_view>
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
  // `ready_bytes`: what its first read found (less than min_bytes). `peer`
  // names the connection ("" in unit tests: not counted).
  void park(FetchRequest req, Reply reply, int64_t ready_bytes = 0, std::string peer = {});
  // False when `peer` already has max_parked_fetches_per_connection parked.
  bool may_park(std::string_view peer) const;
  // Logs (at most once a second) that `peer`'s fetch was answered at once.
  void warn_full(std::string_view peer);
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
    std::string peer;
    int64_t ready_bytes = 0;  // found by the first read
    // Bytes found since, by part index: each append re-reads one part.
    std::unordered_map<uint32_t, int64_t> found;
    int64_t found_total = 0;
  };
  using Key = std::pair<std::string, int32_t>;

  // Answers and forgets parked fetch `id` (dropping it if its peer has gone).
  void finish(uint64_t id, FetchOutcome* outcome);
  void arm_timer();
  void on_timer();

  BrokerContext& ctx_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Parked> parked_;
  // Waiters of each partition: parked id -> index of the part naming it.
  std::map<Key, std::map<uint64_t, uint32_t>> by_partition_;
  std::unordered_map<std::string, size_t> per_peer_;  // parked fetches by connection
  int64_t last_warn_ms_ = 0;
  std::multimap<int64_t, uint64_t> deadlines_;
  std::unique_ptr<net::Timer> timer_;
  int64_t armed_for_ = INT64_MAX;
};

}  // namespace kreek::broker
