// Parked long-poll fetches; see fetch_purgatory.h.
#include "broker/fetch_purgatory.h"

#include <algorithm>

#include "base/clock.h"
#include "broker/broker_context.h"

namespace kreek::broker {

FetchPurgatory::FetchPurgatory(BrokerContext& ctx) : ctx_(ctx) {}
FetchPurgatory::~FetchPurgatory() = default;

void FetchPurgatory::park(FetchRequest req, Reply reply) {
  uint64_t id = next_id_++;
  int64_t deadline = clock::monotonic_ms() + req.max_wait_ms;
  for (const FetchPart& part : req.parts) {
    auto& ids = by_partition_[{part.topic, part.partition}];
    // A fetch naming one partition twice is listed once.
    if (ids.empty() || ids.back() != id) ids.push_back(id);
  }
  deadlines_.emplace(deadline, id);
  parked_.emplace(id, Parked{std::move(req), std::move(reply), deadline});
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
    auto& ids = bp->second;
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
    if (ids.empty()) by_partition_.erase(bp);
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
  std::vector<uint64_t> ids = bp->second;  // finish() edits the list
  for (uint64_t id : ids) {
    auto it = parked_.find(id);
    if (it == parked_.end()) continue;
    if (!it->second.reply.open()) {
      finish(id, nullptr);
      continue;
    }
    if (followers_only && it->second.req.replica < 0) continue;
    FetchOutcome out = read_fetch(ctx_, it->second.req);
    if (out.has_error || out.skipped_gap || out.bytes >= it->second.req.min_bytes) finish(id, &out);
  }
}

void FetchPurgatory::on_topic_changed(const std::string& topic) {
  std::vector<uint64_t> ids;
  for (auto it = by_partition_.lower_bound({topic, INT32_MIN});
       it != by_partition_.end() && it->first.first == topic; ++it)
    ids.insert(ids.end(), it->second.begin(), it->second.end());
  for (uint64_t id : ids) finish(id, nullptr);
}

void FetchPurgatory::forget_partition(const std::string& topic, PartitionId p) {
  auto it = by_partition_.find({topic, p.value()});
  if (it == by_partition_.end()) return;
  std::vector<uint64_t> ids = it->second;
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
