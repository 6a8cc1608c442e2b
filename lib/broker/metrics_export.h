// The broker's metrics as the outside sees them: the registry's counters plus
// gauges read from the broker's state at scrape time (partitions, segments,
// log sizes, connections, fetch waiters, under-replicated partitions, follower
// lag), collected once into families and written as Prometheus text (GET
// /metrics) or JSON (the `metrics` op, ktopic metrics).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "broker/metrics.h"

namespace kreek::broker {

struct BrokerContext;

struct MetricSample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
  const Histogram* histogram = nullptr;  // set for histogram families (value unused)
};

struct MetricFamily {
  std::string name;  // "kreek_requests_total"
  std::string type;  // counter | gauge | histogram
  std::string help;
  std::vector<MetricSample> samples;
};

// Every family, in a fixed order. Valid until the registry changes (the
// histograms are pointed at, not copied).
std::vector<MetricFamily> collect_metrics(BrokerContext& ctx);

// The Prometheus text exposition format, version 0.0.4.
std::string to_prometheus(const std::vector<MetricFamily>& families);
// {"metrics":[{"name","type","help","samples":[{"labels":{..},"value":n}
// or, for histograms, {"labels","count","sum","p50","p99","buckets":[{"le","count"}]}]}]}.
nlohmann::ordered_json to_json(const std::vector<MetricFamily>& families);

// The metrics op: {"node", "ready", "metrics": [...]}.
Result<nlohmann::ordered_json> handle_metrics(BrokerContext& ctx, const nlohmann::ordered_json& req);

}  // namespace kreek::broker
