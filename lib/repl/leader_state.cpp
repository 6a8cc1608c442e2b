// LeaderState: the leader's HW and ISR rules. See leader_state.h; Kafka's
// Partition.maybeIncrementLeaderHW and Replica.updateFetchState are the models.
#include "repl/leader_state.h"

#include <algorithm>

namespace kreek::repl {

LeaderState::LeaderState(NodeId self, LeaderEpoch epoch, Offset leo, Offset hw, std::vector<NodeId> replicas,
                         std::vector<NodeId> isr, int32_t partition_epoch, int64_t now_ms)
    : self_(self),
      epoch_(epoch),
      epoch_start_(leo),
      leo_(leo),
      hw_(std::min(hw, leo)),
      replicas_(std::move(replicas)),
      isr_(std::move(isr)),
      partition_epoch_(partition_epoch) {
  for (NodeId r : replicas_) {
    if (r == self_) continue;
    Follower f;
    f.view.node = r;
    if (in(isr_, r)) f.view.last_caught_up_ms = now_ms;
    followers_.push_back(f);
  }
  update_hw();  // ISR = {self}: everything the leader holds is committed now
}

bool LeaderState::in(const std::vector<NodeId>& v, NodeId n) const {
  return std::find(v.begin(), v.end(), n) != v.end();
}

const LeaderState::Follower* LeaderState::find(NodeId n) const {
  for (const Follower& f : followers_)
    if (f.view.node == n) return &f;
  return nullptr;
}
LeaderState::Follower* LeaderState::find(NodeId n) {
  return const_cast<Follower*>(static_cast<const LeaderState*>(this)->find(n));
}

bool LeaderState::update_hw() {
  Offset candidate = leo_;
  auto lower = [&](NodeId n) {
    if (n == self_) return;
    const Follower* f = find(n);
    // An ISR member that is not a replica cannot be: hold the HW rather than guess.
    Offset leo = f ? f->view.leo : Offset(-1);
    if (leo < candidate) candidate = leo;
  };
  for (NodeId n : isr_) lower(n);
  for (NodeId n : pending_additions_) lower(n);
  if (candidate <= hw_ || candidate < epoch_start_) return false;
  hw_ = candidate;
  return true;
}

bool LeaderState::on_append(Offset leo) {
  if (leo <= leo_) return false;
  leo_ = leo;
  return update_hw();
}

bool LeaderState::on_follower_fetch(NodeId node, Offset fetch_offset, int64_t now_ms, int64_t broker_epoch) {
  Follower* f = find(node);
  if (f == nullptr || fetch_offset > leo_) return false;
  if (broker_epoch < f->view.broker_epoch) return false;  // from a process that has since re-registered
  if (f->view.broker_epoch < 0) {
    f->view.broker_epoch = broker_epoch;  // the first fetch that says
  } else if (broker_epoch > f->view.broker_epoch) {
    // A new registration: nothing known of its log or its catching up.
    Follower fresh;
    fresh.view.node = node;
    fresh.view.broker_epoch = broker_epoch;
    *f = fresh;
  }
  return on_follower_fetch(node, fetch_offset, now_ms);
}

bool LeaderState::on_follower_fetch(NodeId node, Offset fetch_offset, int64_t now_ms) {
  Follower* f = find(node);
  if (f == nullptr || fetch_offset > leo_) return false;
  FollowerView& v = f->view;
  // Kafka's lastCaughtUpTime: at its fetch, the follower asked for everything
  // up to the leader's end; or it has reached what the leader had at its
  // previous fetch, so it was caught up as of that fetch.
  if (fetch_offset >= leo_)
    v.last_caught_up_ms = std::max(v.last_caught_up_ms, now_ms);
  else if (fetch_offset >= f->leader_leo_at_last_fetch && f->leader_leo_at_last_fetch.value() >= 0)
    v.last_caught_up_ms = std::max(v.last_caught_up_ms, v.last_fetch_ms);
  f->leader_leo_at_last_fetch = leo_;
  v.last_fetch_ms = now_ms;
  v.leo = fetch_offset;
  return update_hw();
}

bool LeaderState::on_metadata(std::vector<NodeId> replicas, std::vector<NodeId> isr, int32_t partition_epoch) {
  if (partition_epoch < partition_epoch_) return false;
  std::vector<Follower> next;
  for (NodeId r : replicas) {
    if (r == self_) continue;
    if (const Follower* old = find(r)) {
      next.push_back(*old);
    } else {
      Follower f;
      f.view.node = r;
      next.push_back(f);
    }
  }
  followers_ = std::move(next);
  replicas_ = std::move(replicas);
  isr_ = std::move(isr);
  partition_epoch_ = partition_epoch;
  // A newer partition epoch settles the proposal: the compare-and-set could
  // only have applied it as the very next epoch, so the ISR now shows it.
  if (partition_epoch_ > pending_base_epoch_) pending_additions_.clear();
  return update_hw();
}

std::optional<std::vector<NodeId>> LeaderState::isr_change(int64_t now_ms, int64_t lag_max_ms) const {
  if (in_flight_) return std::nullopt;
  // Kafka's isCaughtUp: a follower holding all the leader has is never out of
  // sync, however long ago it last fetched (an idle partition keeps its ISR).
  auto lagging = [&](NodeId n) {
    const Follower* f = find(n);
    return n != self_ && f != nullptr && f->view.leo != leo_ && now_ms - f->view.last_caught_up_ms > lag_max_ms;
  };
  auto joins = [&](const Follower& f) {
    return !in(isr_, f.view.node) && f.view.leo >= hw_ && f.view.leo >= epoch_start_;
  };
  // Called on every tick: allocate only when there is a change to propose.
  bool changed = std::any_of(isr_.begin(), isr_.end(), lagging) ||
                 std::any_of(followers_.begin(), followers_.end(), joins);
  if (!changed) return std::nullopt;
  std::vector<NodeId> next;
  next.reserve(replicas_.size());
  for (NodeId n : isr_)
    if (!lagging(n)) next.push_back(n);
  for (const Follower& f : followers_)
    if (joins(f)) next.push_back(f.view.node);
  return next;
}

void LeaderState::proposal_sent(std::vector<NodeId> proposed) {
  in_flight_ = true;
  // Earlier unsettled additions keep counting: that proposal may yet apply.
  if (pending_additions_.empty() || pending_base_epoch_ != partition_epoch_) pending_additions_.clear();
  for (NodeId n : proposed)
    if (!in(isr_, n) && !in(pending_additions_, n)) pending_additions_.push_back(n);
  pending_base_epoch_ = partition_epoch_;
}

void LeaderState::proposal_done() { in_flight_ = false; }

void LeaderState::proposal_refused() {
  in_flight_ = false;
  pending_additions_.clear();
}

std::vector<FollowerView> LeaderState::followers() const {
  std::vector<FollowerView> out;
  out.reserve(followers_.size());
  for (const Follower& f : followers_) out.push_back(f.view);
  return out;
}

}  // namespace kreek::repl
