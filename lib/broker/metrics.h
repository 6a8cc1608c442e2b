// Metrics: the broker's counters and histograms, updated on the hot path and
// read at scrape time (metrics_export.h turns them and the live gauges into
// Prometheus text and JSON). Everything here is plain integers on the loop
// thread: a request costs one clock read and a few increments, a produce
// batch one topic lookup; nothing is looked up per record.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kreek::broker {

// Cumulative histogram over fixed bucket bounds (Prometheus' "le"), in
// microseconds: from 50us (a produce acknowledged after write(2)) to 10 s (a
// long-poll fetch or a slow fsync).
class Histogram {
 public:
  static constexpr std::array<int64_t, 15> kBoundsUs = {50,     100,    250,     500,     1'000,
                                                        2'500,  5'000,  10'000,  25'000,  50'000,
                                                        100'000, 250'000, 500'000, 1'000'000, 10'000'000};
  void observe_us(int64_t us) {
    if (us < 0) us = 0;
    size_t i = 0;
    while (i < kBoundsUs.size() && us > kBoundsUs[i]) ++i;
    ++buckets_[i];  // the last slot is +Inf
    ++count_;
    sum_us_ += us;
  }
  // Observations <= kBoundsUs[i] (i == kBoundsUs.size(): all of them).
  uint64_t cumulative(size_t i) const;
  uint64_t count() const { return count_; }
  int64_t sum_us() const { return sum_us_; }
  // The bound of the bucket holding quantile q (0..1), in microseconds; an
  // upper estimate, as Prometheus' histogram_quantile would give. -1 if empty.
  int64_t quantile_us(double q) const;

 private:
  std::array<uint64_t, kBoundsUs.size() + 1> buckets_{};
  uint64_t count_ = 0;
  int64_t sum_us_ = 0;
};

inline int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One op's requests: how many, how many failed (by error code) and how long
// each took from dispatch to its answer (a long poll's wait included).
struct OpStats {
  std::string name;
  uint64_t requests = 0;
  std::map<Code, uint64_t> errors;
  Histogram latency;
};

// One topic's traffic through this broker. "out" counts what consumers were
// sent; what followers copy is replication_bytes_out.
struct TopicStats {
  uint64_t bytes_in = 0, records_in = 0;
  uint64_t bytes_out = 0, records_out = 0;
  uint64_t replication_bytes_out = 0;
};

class Metrics {
 public:
  Metrics();

  // Registers an op name (the router does, for every op it serves), so
  // op(name) finds it; names are kept in registration order.
  void add_op(std::string_view name);
  // The op's stats; an op nobody registered (a client's typo) counts as
  // "unknown", so a client cannot grow the series without bound.
  OpStats& op(std::string_view name);
  const std::deque<OpStats>& ops() const { return ops_; }

  TopicStats& topic(std::string_view name);
  void forget_topic(std::string_view name);
  const std::map<std::string, TopicStats, std::less<>>& topics() const { return topics_; }

  Histogram flush_latency;  // one background fsync of a partition's segments
  // Replication, as this broker's metadata shows it: ISR changes of the
  // partitions it leads, and every leader change of any partition.
  uint64_t isr_shrinks = 0, isr_expands = 0, leader_changes = 0;
  // Open client connections, from the server (unset in unit tests).
  std::function<int64_t()> connections;
  int64_t started_ms = 0;  // wall clock, for uptime

 private:
  std::deque<OpStats> ops_;  // a deque: OpStats addresses stay put (Reply holds one)
  OpStats* unknown_ = nullptr;
  std::map<std::string, TopicStats, std::less<>> topics_;
};

// Records one request's answer: latency since `start_us` (steady_us()).
inline void observe_request(OpStats* op, int64_t start_us) {
  if (op != nullptr) op->latency.observe_us(steady_us() - start_us);
}

}  // namespace kreek::broker
