// LeaderState: one partition as its leader sees it — every follower's log end
// offset (LEO) and when it last caught up, the high watermark (HW), and the ISR
// change to propose. Pure: no clock (time comes in as now_ms), no I/O; the
// broker calls it from its loop and the replication simulation drives it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/strong_id.h"

namespace kreek::repl {

struct FollowerView {
  NodeId node;
  Offset leo{-1};               // -1: not fetched from this leader yet
  int64_t last_caught_up_ms = 0;
  int64_t last_fetch_ms = 0;
  // Added: the registration (broker epoch) the view was learned from, -1 if
  // the fetches did not say. A follower back with an empty disk is a new
  // registration, and its old LEO must not carry it into the ISR.
  int64_t broker_epoch = -1;
};

// HW = min LEO over (ISR ∪ additions proposed and not yet settled by the
// metadata), the leader's own LEO included. It only moves forward, and only to
// a value >= epoch_start(): a new leader commits nothing of older epochs on its
// own say, only once every ISR member holds all of it. With ISR = {self} the
// HW follows every append; each call is O(ISR x replicas), a few compares,
// and allocates nothing.
class LeaderState {
 public:
  // Became leader at `epoch`; `leo` = log end now (= the epoch's start
  // offset); `hw` = checkpointed HW (clamped to leo). ISR followers count as
  // caught up at now_ms (Kafka), the others not at all.
  LeaderState(NodeId self, LeaderEpoch epoch, Offset leo, Offset hw, std::vector<NodeId> replicas,
              std::vector<NodeId> isr, int32_t partition_epoch, int64_t now_ms);

  // The leader's log now ends at `leo` (a leader's log only grows; a smaller
  // value is ignored). True if the HW moved.
  bool on_append(Offset leo);
  // Follower `f` fetched from `fetch_offset`: it holds everything below it.
  // Ignored (false) for a non-replica, for self, and for an offset past the
  // leader's log end (that follower must truncate first). True if the HW moved.
  bool on_follower_fetch(NodeId f, Offset fetch_offset, int64_t now_ms);
  // Added (KIP-903): the same, from the follower's registration
  // `broker_epoch`. A newer registration than the view's starts the view
  // afresh (its log may be another disk's); an older one is a delayed fetch
  // from a dead process and is ignored. The broker must then send the
  // followers' broker epochs with the additions it proposes and the
  // coordinator must refuse a mismatch: the leader's view can lag a
  // re-registration (see isr_change).
  bool on_follower_fetch(NodeId f, Offset fetch_offset, int64_t now_ms, int64_t broker_epoch);
  // A committed change at the same leader epoch (ISR shrink/expand, replicas).
  // A partition epoch older than the one held is ignored. True if the HW moved.
  bool on_metadata(std::vector<NodeId> replicas, std::vector<NodeId> isr, int32_t partition_epoch);

  Offset high_watermark() const { return hw_; }
  Offset log_end() const { return leo_; }
  LeaderEpoch epoch() const { return epoch_; }
  Offset epoch_start() const { return epoch_start_; }
  const std::vector<NodeId>& isr() const { return isr_; }
  const std::vector<NodeId>& replicas() const { return replicas_; }
  int32_t partition_epoch() const { return partition_epoch_; }

  // The ISR the leader should propose now (alter_partition), or nullopt.
  // Drops ISR followers not caught up for more than `lag_max_ms` (Kafka's
  // lastCaughtUpTime rule: caught up at a fetch whose offset >= the leader's
  // LEO then, or, as of the previous fetch's time, when it >= the LEO at the
  // follower's previous fetch; a follower whose LEO equals the leader's is
  // never dropped). Adds replicas outside the ISR whose LEO >= HW and >=
  // epoch_start. Never drops self. nullopt while a proposal is in flight.
  // An addition is only safe if the follower has not re-registered since the
  // fetches the view is built from: followers()[i].broker_epoch must still be
  // its registration when the coordinator applies the change (KIP-903).
  std::optional<std::vector<NodeId>> isr_change(int64_t now_ms, int64_t lag_max_ms) const;

  // The proposal went to the coordinator. Its additions count in the HW at
  // once (Kafka's maximal ISR) and keep counting until metadata with a newer
  // partition epoch than the proposal's settles its outcome: the coordinator
  // may have accepted it even if the answer was lost.
  void proposal_sent(std::vector<NodeId> proposed);
  // The coordinator answered (either way) or the request failed; a new
  // proposal may be made. The metadata brings the outcome.
  void proposal_done();
  // Added: the coordinator refused the proposal and the partition did not
  // change (INVALID_REQUEST, e.g. the addition is not live), so its additions
  // stop counting in the HW now. Not for FENCED_EPOCH (the metadata moved;
  // proposal_done is right there).
  void proposal_refused();
  bool proposal_in_flight() const { return in_flight_; }

  std::vector<FollowerView> followers() const;

 private:
  struct Follower {
    FollowerView view;
    Offset leader_leo_at_last_fetch{-1};
  };
  const Follower* find(NodeId n) const;
  Follower* find(NodeId n);
  bool in(const std::vector<NodeId>& v, NodeId n) const;
  bool update_hw();

  NodeId self_;
  LeaderEpoch epoch_;
  Offset epoch_start_;
  Offset leo_;
  Offset hw_;
  std::vector<NodeId> replicas_;
  std::vector<NodeId> isr_;
  int32_t partition_epoch_;
  std::vector<Follower> followers_;  // one per replica but self, in replica order
  bool in_flight_ = false;
  std::vector<NodeId> pending_additions_;  // proposed, outcome not yet in the metadata
  int32_t pending_base_epoch_ = 0;          // the partition epoch they were proposed against
};

}  // namespace kreek::repl
