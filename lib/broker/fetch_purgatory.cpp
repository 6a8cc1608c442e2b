// Parked long-poll fetches; see fetch_purgatory.h.
#include "broker/fetch_purgatory.h"

#include <algorithm>

#include "base/clock.h"
#include "base/log.h"
#include "broker/broker.h"
#include "broker/broker_context.h"

namespace kreek::broker {

FetchPurgatory::FetchPurgatory(BrokerContext& ctx) : ctx_(ctx) {}
FetchPurgatory::~FetchPurgatory() = default;

bool FetchPurgatory::may_park(std::string_view peer) const {
  int64_t cap = ctx_.config.max_parked_fetches_per_connection;
  if (peer.empty() || cap <= 0) return true;
  auto it = per_peer_.find(std::string(peer));
  return it == per_peer_.end() || it->second < static_cast<size_t>(cap);
}

void FetchPurgatory::warn_full(std::string_view peer) {
  int64_t now = clock::monotonic_ms();
  if (last_warn_ms_ != 0 && now - last_warn_ms_ < 1000) return;
  last_warn_ms_ = now;
  log::warn("fetch from " + std::string(peer) + " answered at once: " +
            std::to_string(ctx_.config.max_parked_fetches_per_connection) +
            " long polls of that connection are already waiting");
}

void FetchPurgatory::park(FetchRequest req, Reply reply, int64_t ready_bytes, std::string peer) {
  uint64_t id = next_id_++;
  int64_t deadline = clock::monotonic_ms() + req.max_wait_ms;
  for (size_t i = 0; i < req.parts.size(); ++i) {
    const FetchPart& part = req.parts[i];
    // A fetch naming one partition twice (parse_fetch refuses it) is listed once.
    by_partition_[{part.topic, part.partition}].emplace(id, static_cast<uint32_t>(i));
  }
  deadlines_.emplace(deadline, id);
  if (!peer.empty()) ++per_peer_[peer];
  Parked p{std::move(req), std::move(reply), deadline, std::move(peer), ready_bytes, {}, 0};
  parked_.emplace(id, std::move(p));
  if (deadline < armed_for_) arm_timer();
}

void FetchPurgatory::finish(uint64_t id, FetchOutcome* outcome) {
  auto it = parked_.find(id);
  if (it == parked_.end()) return;
  Parked p = std::move(it->second);
  parked_.erase(it);
  for (const FetchPart& part : p.req.parts) {
    auto bp = by_partition_.find({part.topic, part.partition});
    if (bp == by_partition_.end()) continue;
    bp->second.erase(id);
    if (bp->second.empty()) by_partition_.erase(bp);
  }
  if (!p.peer.empty()) {
    auto pp = per_peer_.find(p.peer);
    if (pp != per_peer_.end() && --pp->second == 0) per_peer_.erase(pp);
  }
  auto range = deadlines_.equal_range(p.deadline_ms);
  for (auto d = range.first; d != range.second; ++d) {
    if (d->second == id) {
      deadlines_.erase(d);
      break;
    }
  }
  if (!p.reply.open()) {
    p.reply.send_nothing();  // peer gone: release the slot, skip the read
    return;
  }
  FetchOutcome read;
  if (outcome == nullptr) {
    read = read_fetch(ctx_, p.req);
    outcome = &read;
  }
  note_fetch_sent(ctx_, p.req, *outcome);
  p.reply.send(std::move(outcome->response));
}

void FetchPurgatory::on_append(const std::string& topic, PartitionId p, bool followers_only) {
  if (parked_.empty()) return;  // the common case on the produce path
  auto bp = by_partition_.find({topic, p.value()});
  if (bp == by_partition_.end()) return;
  std::vector<std::pair<uint64_t, uint32_t>> waiters(bp->second.begin(), bp->second.end());  // finish() edits it
  FetchRequest one;  // the one part this append touched, read for each waiter
  for (auto [id, index] : waiters) {
    auto it = parked_.find(id);
    if (it == parked_.end()) continue;
    Parked& w = it->second;
    if (!w.reply.open()) {
      finish(id, nullptr);
      continue;
    }
    if (followers_only && w.req.replica < 0) continue;
    if (index >= w.req.parts.size()) continue;
    one.id_raw = "null";
    one.parts.assign(1, w.req.parts[index]);
    one.max_bytes = w.req.max_bytes;
    one.replica = w.req.replica;
    one.broker_epoch = w.req.broker_epoch;
    FetchOutcome out = read_fetch(ctx_, one);
    if (out.has_error || out.skipped_gap) {
      finish(id, nullptr);  // the full read reports it
      continue;
    }
    int64_t& was = w.found[index];
    w.found_total += out.bytes - was;
    was = out.bytes;
    if (w.ready_bytes + w.found_total >= w.req.min_bytes) finish(id, nullptr);
  }
}

void FetchPurgatory::on_topic_changed(const std::string& topic) {
  std::vector<uint64_t> ids;
  for (auto it = by_partition_.lower_bound({topic, INT32_MIN});
       it != by_partition_.end() && it->first.first == topic; ++it)
    for (const auto& [id, index] : it->second) ids.push_back(id);
  for (uint64_t id : ids) finish(id, nullptr);
}

void FetchPurgatory::forget_partition(const std::string& topic, PartitionId p) {
  auto it = by_partition_.find({topic, p.value()});
  if (it == by_partition_.end()) return;
  std::vector<uint64_t> ids;
  for (const auto& [id, index] : it->second) ids.push_back(id);
  for (uint64_t id : ids) finish(id, nullptr);
}

void FetchPurgatory::complete_all() {
  while (!parked_.empty()) finish(parked_.begin()->first, nullptr);
  if (timer_) timer_->stop();
  timer_.reset();
  armed_for_ = INT64_MAX;
}

void FetchPurgatory::arm_timer() {
  if (ctx_.loop == nullptr) return;
  if (deadlines_.empty()) {
    if (timer_) timer_->stop();
    armed_for_ = INT64_MAX;
    return;
  }
  if (!timer_) timer_ = ctx_.loop->make_timer();
  armed_for_ = deadlines_.begin()->first;
  int64_t delay = std::max<int64_t>(armed_for_ - clock::monotonic_ms(), 0);
  timer_->start(delay, 0, [this] { on_timer(); });
}

void FetchPurgatory::on_timer() {
  armed_for_ = INT64_MAX;
  int64_t now = clock::monotonic_ms();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    uint64_t id = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    finish(id, nullptr);
  }
  arm_timer();
}

}  // namespace kreek::broker
