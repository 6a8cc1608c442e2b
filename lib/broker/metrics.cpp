// The metrics registry; see metrics.h.
#include "broker/metrics.h"

#include <algorithm>
#include <cmath>

#include "base/clock.h"

namespace kreek::broker {

uint64_t Histogram::cumulative(size_t i) const {
  uint64_t n = 0;
  for (size_t b = 0; b <= i && b < buckets_.size(); ++b) n += buckets_[b];
  return n;
}

int64_t Histogram::quantile_us(double q) const {
  if (count_ == 0) return -1;
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  uint64_t n = 0;
  for (size_t b = 0; b < kBoundsUs.size(); ++b) {
    n += buckets_[b];
    if (n >= rank) return kBoundsUs[b];
  }
  // Past the last bound: the mean of what is there is the best bound we have.
  return std::max<int64_t>(kBoundsUs.back(), sum_us_ / static_cast<int64_t>(count_));
}

Metrics::Metrics() : started_ms(clock::now_ms()) {
  ops_.push_back(OpStats{"unknown", 0, {}, {}});
  unknown_ = &ops_.back();
}

void Metrics::add_op(std::string_view name) {
  for (const OpStats& o : ops_)
    if (o.name == name) return;
  ops_.push_back(OpStats{std::string(name), 0, {}, {}});
}

OpStats& Metrics::op(std::string_view name) {
  // A dozen names, most requests produce or fetch (registered first): a
  // linear scan beats hashing the name.
  for (OpStats& o : ops_)
    if (o.name == name) return o;
  return *unknown_;
}

TopicStats& Metrics::topic(std::string_view name) {
  auto it = topics_.find(name);
  if (it == topics_.end()) it = topics_.emplace(std::string(name), TopicStats{}).first;
  return it->second;
}

void Metrics::forget_topic(std::string_view name) {
  if (auto it = topics_.find(name); it != topics_.end()) topics_.erase(it);
}

}  // namespace kreek::broker
