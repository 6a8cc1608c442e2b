// ReplicaManager: a broker's part in replication. For each partition it leads
// it keeps the leader's view (repl::LeaderState: followers' log ends, the high
// watermark, ISR changes to propose), answers acks=all produces once the high
// watermark passes them, and wakes consumers when it moves. For each partition
// it follows it hands the partition to the ReplicaFetcher of its leader.
// The metadata decides the roles: on_metadata after every image.
// Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/strong_id.h"
#include "broker/reply.h"
#include "net/net.h"
#include "repl/leader_state.h"

namespace kreek::broker {

struct BrokerContext;
class ReplicaFetcher;

class ReplicaManager {
 public:
  explicit ReplicaManager(BrokerContext& ctx);  // `ctx` must outlive this
  ~ReplicaManager();

  // Starts the periodic ISR check (needs the loop; unit tests without one
  // never shrink an ISR).
  void start();
  // Stops fetching and answers every waiting acks=all produce (REQUEST_TIMED_OUT: it may be committed).
  void stop();

  // The partition table changed (MetadataSync applied an image): become the
  // leader of newly led partitions, a follower of the others this broker
  // holds, and let go of those it no longer leads.
  void on_metadata();

  // The leader appended to topic/p: the high watermark may move.
  void on_append(const std::string& topic, PartitionId p);

  // The high watermark consumers may read below: the leader's, or the log's
  // own (a follower, or a partition nobody leads here).
  Offset high_watermark(const std::string& topic, PartitionId p);

  // A follower fetched topic/p from `offset` (it holds everything before).
  // `broker_epoch` is the follower's registration: the ISR additions the
  // leader proposes name it, and the coordinator refuses a stale one.
  void on_follower_fetch(const std::string& topic, PartitionId p, NodeId follower, Offset offset,
                         int64_t broker_epoch);

  // acks=all: calls `done` with OK once the high watermark reaches `end`
  // (the offset after the batch), REQUEST_TIMED_OUT after `timeout_ms`, or
  // REQUEST_TIMED_OUT too if this broker stops leading the partition first
  // (the batch may be committed by the next leader, or not).
  void wait_for_high_watermark(const std::string& topic, PartitionId p, Offset end,
                               int64_t timeout_ms, std::function<void(Status)> done);

  // The ISR the leader holds now (for min.insync.replicas); empty if not leading.
  const std::vector<NodeId>* leader_isr(const std::string& topic, PartitionId p);
  // True when followers in the ISR stopped copying and the coordinator has
  // not taken them out for kStalledShrinkMs: this leader is probably cut
  // off, perhaps already replaced. acks=all is then refused up front
  // (NOT_ENOUGH_REPLICAS) and its waiters get REQUEST_TIMED_OUT, so
  // producers look for the current leader instead of waiting out their timeout.
  bool isr_stalled(const std::string& topic, PartitionId p);

  // A topic went away: forget its state (waiters get UNKNOWN_TOPIC).
  void forget_topic(const std::string& topic);
  // This broker is no longer a replica of topic/p (reassigned away).
  void forget_partition(const std::string& topic, PartitionId p);

  // For describe_topic: the leader's view of its followers, if it leads topic/p.
  const repl::LeaderState* leader_state(const std::string& topic, PartitionId p);

  // Periodic: proposes ISR shrinks, times out acks=all waiters, and writes
  // the high watermarks to replication-offset-checkpoint once a second when
  // one moved.
  void tick();
  // A follower's high watermark moved (its fetcher set it in the log).
  void note_high_watermark_moved() { hw_dirty_ = true; }

 private:
  using Key = std::pair<std::string, int32_t>;
  struct Waiter {
    Offset end;
    int64_t deadline_ms = 0;
    std::function<void(Status)> done;
  };
  struct Led {
    std::unique_ptr<repl::LeaderState> state;
    std::multimap<int64_t, Waiter> waiters;  // by end offset
    bool altering = false;                   // an alter_partition is in flight
    int64_t next_alter_ms = 0;               // after a refused one: not before this
    // When this leader first asked to drop a lagging follower from the ISR
    // and has not seen it done (0: no shrink pending). See isr_stalled().
    int64_t shrink_asked_ms = 0;
  };

  // The leader state of topic/p, created if this broker leads it now.
  Led* led(const std::string& topic, PartitionId p);
  void become_leader(const Key& key, Led& l);
  void lose_leadership(const Key& key, Led& l, const Status& why);
  // The high watermark moved: persist it in the log, wake consumers and waiters.
  void on_high_watermark(const Key& key, Led& l);
  void maybe_alter_isr(const Key& key, Led& l, int64_t now_ms);
  // Consumers parked on `key` re-read soon, from the loop rather than from
  // inside the fetch that moved the high watermark (which may itself be a
  // parked fetch being re-read).
  void wake_consumers_soon(const Key& key);

  BrokerContext& ctx_;
  std::map<Key, Led> led_;
  std::map<int32_t, std::unique_ptr<ReplicaFetcher>> fetchers_;  // by leader node id
  std::unique_ptr<net::Timer> timer_;
  std::unique_ptr<net::Timer> wake_timer_;
  std::vector<Key> to_wake_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool stopped_ = false;
  bool hw_dirty_ = false;         // a high watermark moved since the last checkpoint
  int64_t hw_written_ms_ = 0;     // monotonic time of that checkpoint
};

}  // namespace kreek::broker
