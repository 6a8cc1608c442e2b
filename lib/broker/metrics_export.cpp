// Collecting and writing the broker's metrics; see metrics_export.h.
#include "broker/metrics_export.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "broker/broker_context.h"
#include "broker/fetch_purgatory.h"
#include "broker/replica_manager.h"
#include "storage/log_manager.h"
#include "storage/partition_log.h"

namespace kreek::broker {

using json = nlohmann::ordered_json;

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

MetricFamily& family(std::vector<MetricFamily>& out, std::string name, std::string type, std::string help) {
  out.push_back(MetricFamily{std::move(name), std::move(type), std::move(help), {}});
  return out.back();
}

void sample(MetricFamily& f, Labels labels, double value) { f.samples.push_back({std::move(labels), value, nullptr}); }

// Integers as integers, the rest with microsecond precision (latencies in
// seconds), trailing zeros trimmed: "0.00025", "12", "3.5".
std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.6f", v);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

// Label values: backslash, double quote and newline escaped (the format's rule).
std::string escaped(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string label_text(const Labels& labels, const std::string& le = {}) {
  if (labels.empty() && le.empty()) return "";
  std::string out = "{";
  for (const auto& [k, v] : labels) {
    if (out.size() > 1) out += ',';
    out += k + "=\"" + escaped(v) + "\"";
  }
  if (!le.empty()) {
    if (out.size() > 1) out += ',';
    out += "le=\"" + le + "\"";
  }
  return out + "}";
}

double seconds(int64_t us) { return static_cast<double>(us) / 1e6; }

// Per topic, over the partitions this broker holds.
struct TopicGauges {
  int64_t partitions = 0, leaders = 0, segments = 0, size = 0;
  int64_t under_replicated = 0, offline = 0, max_follower_lag = 0;
};

}  // namespace

std::vector<MetricFamily> collect_metrics(BrokerContext& ctx) {
  Metrics& m = ctx.metrics;
  std::vector<MetricFamily> out;
  out.reserve(32);

  family(out, "kreek_ready", "gauge", "1 once the broker is registered and serving, else 0");
  sample(out.back(), {}, ctx.ready ? 1 : 0);
  family(out, "kreek_start_time_seconds", "gauge", "when the broker started, seconds since the Unix epoch");
  sample(out.back(), {}, static_cast<double>(m.started_ms / 1000));

  // --- requests -------------------------------------------------------------
  MetricFamily& req = family(out, "kreek_requests_total", "counter", "requests received, by op");
  for (const OpStats& o : m.ops()) sample(req, {{"op", o.name}}, static_cast<double>(o.requests));
  MetricFamily& err = family(out, "kreek_request_errors_total", "counter", "requests answered with an error, by op and error code");
  for (const OpStats& o : m.ops())
    for (const auto& [code, n] : o.errors)
      sample(err, {{"op", o.name}, {"code", std::string(code_name(code))}}, static_cast<double>(n));
  MetricFamily& lat = family(out, "kreek_request_duration_seconds", "histogram",
                             "time from a request's dispatch to its answer (long polls included), by op");
  for (const OpStats& o : m.ops())
    if (o.requests > 0) lat.samples.push_back({{{"op", o.name}}, 0, &o.latency});

  // --- topics ---------------------------------------------------------------
  std::map<std::string, TopicGauges> gauges;
  for (const storage::TopicInfo* t : ctx.logs.topics()) gauges[t->name];
  int64_t under_replicated = 0, offline = 0;
  for (const auto& e : ctx.logs.logs()) {
    TopicGauges& g = gauges[e.topic->name];
    ++g.partitions;
    g.segments += e.log->segment_count();
    g.size += e.log->size_bytes();
    const PartitionState& ps = ctx.partitions.get(e.topic->name, e.partition);
    if (ps.offline) ++g.offline;
    if (ps.leader != ctx.partitions.self()) continue;
    ++g.leaders;
    if (ps.isr.size() < ps.replicas.size()) ++g.under_replicated;
    if (const repl::LeaderState* ls = ctx.replicas->leader_state(e.topic->name, e.partition)) {
      for (const repl::FollowerView& f : ls->followers()) {
        // A follower that never fetched lags by the whole log.
        int64_t lag = f.leo.value() < 0 ? e.log->log_end().value() : e.log->log_end() - f.leo;
        g.max_follower_lag = std::max(g.max_follower_lag, lag);
      }
    }
  }
  for (const auto& [name, g] : gauges) {
    under_replicated += g.under_replicated;
    offline += g.offline;
  }
  auto per_topic = [&](const char* name, const char* type, const char* help, auto value) {
    MetricFamily& f = family(out, name, type, help);
    for (const auto& [topic, g] : gauges) sample(f, {{"topic", topic}}, static_cast<double>(value(topic, g)));
  };
  auto stats = [&](const std::string& topic) {
    auto it = m.topics().find(topic);
    return it == m.topics().end() ? TopicStats{} : it->second;
  };
  per_topic("kreek_topic_bytes_in_total", "counter", "record bytes appended by producers",
            [&](const std::string& t, const TopicGauges&) { return stats(t).bytes_in; });
  per_topic("kreek_topic_records_in_total", "counter", "records appended by producers",
            [&](const std::string& t, const TopicGauges&) { return stats(t).records_in; });
  per_topic("kreek_topic_bytes_out_total", "counter", "record bytes sent to consumers",
            [&](const std::string& t, const TopicGauges&) { return stats(t).bytes_out; });
  per_topic("kreek_topic_records_out_total", "counter", "offsets consumers were sent (compaction gaps included)",
            [&](const std::string& t, const TopicGauges&) { return stats(t).records_out; });
  per_topic("kreek_topic_replication_bytes_out_total", "counter", "record bytes sent to followers",
            [&](const std::string& t, const TopicGauges&) { return stats(t).replication_bytes_out; });
  per_topic("kreek_partitions", "gauge", "partitions this broker holds a log of",
            [](const std::string&, const TopicGauges& g) { return g.partitions; });
  per_topic("kreek_leader_partitions", "gauge", "partitions this broker leads",
            [](const std::string&, const TopicGauges& g) { return g.leaders; });
  per_topic("kreek_log_segments", "gauge", "segments across the topic's logs here",
            [](const std::string&, const TopicGauges& g) { return g.segments; });
  per_topic("kreek_log_size_bytes", "gauge", "bytes of the topic's logs here",
            [](const std::string&, const TopicGauges& g) { return g.size; });
  per_topic("kreek_follower_lag_records", "gauge",
            "the most any follower of a partition this broker leads is behind its log end",
            [](const std::string&, const TopicGauges& g) { return g.max_follower_lag; });

  // --- broker ---------------------------------------------------------------
  family(out, "kreek_connections", "gauge", "open client connections");
  sample(out.back(), {}, m.connections ? static_cast<double>(m.connections()) : 0);
  family(out, "kreek_fetch_waiters", "gauge", "long-poll fetches parked until data arrives");
  sample(out.back(), {}, static_cast<double>(ctx.purgatory->size()));
  family(out, "kreek_flush_duration_seconds", "histogram", "one background fsync of a partition's unsynced segments");
  out.back().samples.push_back({{}, 0, &m.flush_latency});
  family(out, "kreek_offline_partitions", "gauge", "partitions taken offline after a failed fsync");
  sample(out.back(), {}, static_cast<double>(offline));

  // --- replication ------------------------------------------------------------
  family(out, "kreek_under_replicated_partitions", "gauge",
         "partitions this broker leads whose in-sync replicas are fewer than their replicas");
  sample(out.back(), {}, static_cast<double>(under_replicated));
  family(out, "kreek_isr_shrinks_total", "counter", "in-sync replica sets of partitions led here that lost members");
  sample(out.back(), {}, static_cast<double>(m.isr_shrinks));
  family(out, "kreek_isr_expands_total", "counter", "in-sync replica sets of partitions led here that gained members");
  sample(out.back(), {}, static_cast<double>(m.isr_expands));
  family(out, "kreek_leader_changes_total", "counter", "partition leader changes this broker's metadata has seen");
  sample(out.back(), {}, static_cast<double>(m.leader_changes));
  return out;
}

std::string to_prometheus(const std::vector<MetricFamily>& families) {
  std::string out;
  out.reserve(8192);
  for (const MetricFamily& f : families) {
    out += "# HELP " + f.name + " " + f.help + "\n";
    out += "# TYPE " + f.name + " " + f.type + "\n";
    for (const MetricSample& s : f.samples) {
      if (s.histogram == nullptr) {
        out += f.name + label_text(s.labels) + " " + number(s.value) + "\n";
        continue;
      }
      const Histogram& h = *s.histogram;
      for (size_t i = 0; i <= Histogram::kBoundsUs.size(); ++i) {
        std::string le = i < Histogram::kBoundsUs.size() ? number(seconds(Histogram::kBoundsUs[i])) : "+Inf";
        out += f.name + "_bucket" + label_text(s.labels, le) + " " + std::to_string(h.cumulative(i)) + "\n";
      }
      out += f.name + "_sum" + label_text(s.labels) + " " + number(seconds(h.sum_us())) + "\n";
      out += f.name + "_count" + label_text(s.labels) + " " + std::to_string(h.count()) + "\n";
    }
  }
  return out;
}

json to_json(const std::vector<MetricFamily>& families) {
  json list = json::array();
  for (const MetricFamily& f : families) {
    json samples = json::array();
    for (const MetricSample& s : f.samples) {
      json labels = json::object();
      for (const auto& [k, v] : s.labels) labels[k] = v;
      if (s.histogram == nullptr) {
        double v = s.value;
        samples.push_back({{"labels", std::move(labels)},
                           {"value", v == std::floor(v) && std::fabs(v) < 9e15 ? json(static_cast<int64_t>(v)) : json(v)}});
        continue;
      }
      const Histogram& h = *s.histogram;
      json buckets = json::array();
      for (size_t i = 0; i <= Histogram::kBoundsUs.size(); ++i)
        buckets.push_back({{"le", i < Histogram::kBoundsUs.size() ? json(seconds(Histogram::kBoundsUs[i])) : json("+Inf")},
                           {"count", h.cumulative(i)}});
      auto q = [&](double p) { return h.count() == 0 ? json(nullptr) : json(seconds(h.quantile_us(p))); };
      samples.push_back({{"labels", std::move(labels)},
                         {"count", h.count()},
                         {"sum", seconds(h.sum_us())},
                         {"p50", q(0.50)},
                         {"p99", q(0.99)},
                         {"buckets", std::move(buckets)}});
    }
    list.push_back({{"name", f.name}, {"type", f.type}, {"help", f.help}, {"samples", std::move(samples)}});
  }
  return list;
}

Result<json> handle_metrics(BrokerContext& ctx, const json&) {
  return json{{"node", ctx.config.node_id}, {"ready", ctx.ready}, {"metrics", to_json(collect_metrics(ctx))}};
}

}  // namespace kreek::broker
