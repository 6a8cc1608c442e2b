// ktopic partition-for, metrics and alter --partitions; see topic_more.h.
#include "cli/topic_more.h"

#include <cstdio>
#include <optional>

#include "base/json_value.h"
#include "cli/common.h"
#include "proto/partitioner.h"

namespace kreek::cli {

namespace {

void print(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

std::string labels_text(const proto::Json& labels) {
  if (!labels.is_object() || labels.empty()) return "";
  std::string out = "{";
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    if (out.size() > 1) out += ',';
    out += it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
  }
  return out + "}";
}

std::string ms(const proto::Json& seconds) {
  if (!seconds.is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3gms", seconds.get<double>() * 1000);
  return buf;
}

}  // namespace

Status run_partition_for(client::Cluster& cluster, const std::string& topic, const std::vector<std::string>& keys,
                         bool json) {
  KREEK_ASSIGN_OR_RETURN(const client::TopicMeta* meta, cluster.topic(topic, /*auto_create=*/false, true));
  KREEK_RETURN_IF_ERROR(meta->error);
  int32_t n = meta->partition_count();
  if (n < 1) return Status(Code::kUnknownTopic, "topic \"" + topic + "\" has no partitions");
  proto::Json list = proto::Json::array();
  std::string text;
  for (const std::string& k : keys) {
    int32_t p = proto::partition_for_key(k, n);
    list.push_back({{"key", k}, {"partition", p}});
    text += k + "\t" + std::to_string(p) + "\n";
  }
  print(json ? proto::Json{{"topic", topic}, {"partitions", n}, {"keys", list}}.dump() + "\n" : text);
  return Status::ok();
}

Status run_metrics(client::Cluster& cluster, const std::string& broker, bool json) {
  proto::Json answer;
  if (broker.empty()) {
    KREEK_ASSIGN_OR_RETURN(answer, cluster.call({{"op", "metrics"}}));
  } else {
    std::string addr = broker;
    if (broker.find_first_not_of("0123456789") == std::string::npos) {
      // A node id: its address from the cluster's broker list.
      KREEK_ASSIGN_OR_RETURN(proto::Json d, cluster.call({{"op", "describe_cluster"}}));
      addr.clear();
      for (const auto& b : d.value("brokers", proto::Json::array()))
        if (std::optional<int64_t> node = json_member_int(b, "node", 0, INT32_MAX);
            node && std::to_string(*node) == broker)
          addr = json_string_or(b, "addr");
      if (addr.empty()) return Status(Code::kNotFound, "no broker with node id " + broker + " in the cluster");
    }
    KREEK_ASSIGN_OR_RETURN(client::BrokerConnection * conn, cluster.connection(addr));
    proto::Json request = {{"op", "metrics"}, {"id", cluster.next_id()}};
    KREEK_ASSIGN_OR_RETURN(answer, cluster.call_on(*conn, request, cluster.options().request_timeout_ms));
  }
  answer.erase("id");
  print(json ? answer.dump() + "\n" : metrics_text(answer));
  return Status::ok();
}

std::string metrics_text(const proto::Json& answer) {
  std::string out;
  for (const auto& f : answer.value("metrics", proto::Json::array())) {
    if (!f.is_object()) continue;
    std::string name = json_string_or(f, "name");
    bool histogram = json_string_or(f, "type") == "histogram";
    for (const auto& s : f.value("samples", proto::Json::array())) {
      if (!s.is_object()) continue;
      std::string line = name + labels_text(s.value("labels", proto::Json::object()));
      if (histogram) {
        line += " count=" + s.value("count", proto::Json(0)).dump() + " p50=" + ms(s.value("p50", proto::Json())) +
                " p99=" + ms(s.value("p99", proto::Json()));
      } else {
        line += " " + s.value("value", proto::Json(0)).dump();
      }
      out += line + "\n";
    }
  }
  return out;
}

Status run_add_partitions(client::Cluster& cluster, const std::string& topic, int32_t total, bool json) {
  KREEK_ASSIGN_OR_RETURN(const client::TopicMeta* meta, cluster.topic(topic, /*auto_create=*/false, true));
  KREEK_RETURN_IF_ERROR(meta->error);
  int32_t have = meta->partition_count();
  if (total < have)
    return usage_error("topic \"" + topic + "\" has " + std::to_string(have) + " partitions; the count can only " +
                       "grow (removing partitions would lose their records)");
  if (total == have) {
    notice("topic \"" + topic + "\" already has " + std::to_string(have) + " partitions");
    return Status::ok();
  }
  KREEK_ASSIGN_OR_RETURN(proto::Json r,
                         cluster.call({{"op", "create_partitions"}, {"topic", topic}, {"partitions", total}}));
  r.erase("id");
  if (json) print(r.dump() + "\n");
  info("topic \"" + topic + "\" now has " + std::to_string(total) + " partitions (was " + std::to_string(have) + ")");
  // Kafka says the same: hash(key) % partitions moved under every key.
  warn("keyed records now go to other partitions: records written before this change keep their old "
       "partition, so a key's order holds only within each side of it ('ktopic partition-for " + topic +
       " KEY' shows where a key goes now)");
  return Status::ok();
}

}  // namespace kreek::cli
