// list_offsets: a partition's earliest (log start), latest (log end) or first
// offset at or after a timestamp (via the time index).
#include <algorithm>
#include <limits>

#include "broker/admin_ops.h"
#include "broker/broker_context.h"
#include "broker/replica_manager.h"
#include "proto/request_fields.h"
#include "storage/log_manager.h"

namespace kreek::broker {

using proto::read_int, proto::require_topic;

using json = nlohmann::ordered_json;

Result<json> handle_list_offsets(BrokerContext& ctx, const json& req) {
  std::string name;
  KREEK_RETURN_IF_ERROR(require_topic(req, name));
  enum { kEarliest, kLatest, kTime } mode = kLatest;
  int64_t at_ms = 0;
  const char* at_rule = "\"at\" must be \"earliest\", \"latest\" or a non-negative unix time in ms";
  auto at = req.find("at");
  if (at == req.end() || at->is_null()) return invalid_request("missing \"at\" (\"earliest\", \"latest\" or unix ms)");
  if (at->is_string() && *at == "earliest") {
    mode = kEarliest;
  } else if (at->is_string() && *at == "latest") {
    mode = kLatest;
  } else {
    std::optional<int64_t> v;
    if (!read_int(req, "at", 0, std::numeric_limits<int64_t>::max(), v).is_ok() || !v)
      return invalid_request(at_rule);
    mode = kTime;
    at_ms = *v;
  }

  const storage::TopicInfo* t = ctx.logs.topic(name);
  if (t == nullptr) return Status(Code::kUnknownTopic, "topic \"" + name + "\" does not exist");
  std::vector<int32_t> wanted;
  auto parts = req.find("partitions");
  if (parts == req.end() || parts->is_null()) {
    for (int32_t p = 0; p < t->partitions; ++p) wanted.push_back(p);
  } else {
    const char* rule = "\"partitions\" must be an array of partition numbers";
    if (!parts->is_array()) return invalid_request(rule);
    for (const json& p : *parts) {
      if (!p.is_number_integer() || p.get<int64_t>() < 0) return invalid_request(rule);
      int64_t v = p.get<int64_t>();
      if (v >= t->partitions)
        return Status(Code::kUnknownPartition, "topic \"" + name + "\" has no partition " +
                                                   std::to_string(v) + " (it has " +
                                                   std::to_string(t->partitions) + ")");
      wanted.push_back(static_cast<int32_t>(v));
    }
  }

  // A partition this broker cannot answer for gets its own error entry, as in
  // fetch, so a client asking several partitions still learns the rest.
  auto part_error = [](int32_t p, const Status& s) {
    return json{{"partition", p}, {"error", error_json(s)}};
  };
  json out = json::array();
  for (int32_t p : wanted) {
    PartitionId pid(p);
    if (Status lead = ctx.leadership(name, pid); !lead.is_ok()) {
      out.push_back(part_error(p, lead));
      continue;
    }
    storage::PartitionLog* log = ctx.logs.log(name, pid);
    if (log == nullptr) return internal_error("no log for " + name + "/" + std::to_string(p));
    Offset offset;
    if (mode == kEarliest) {
      offset = log->log_start();
    } else if (mode == kLatest) {
      // Consumers' "end" is the high watermark: what every in-sync replica has.
      offset = ctx.replicas->high_watermark(name, pid);
    } else {
      auto r = log->offset_for_time(TimestampMs(at_ms));
      if (!r.is_ok()) {
        out.push_back(part_error(p, r.status()));
        continue;
      }
      offset = std::min(*r, ctx.replicas->high_watermark(name, pid));
    }
    out.push_back({{"partition", p},
                   {"offset", offset.value()},
                   {"log_start", log->log_start().value()},
                   {"log_end", ctx.replicas->high_watermark(name, pid).value()}});
  }
  return json{{"topic", name}, {"partitions", std::move(out)}};
}

}  // namespace kreek::broker
