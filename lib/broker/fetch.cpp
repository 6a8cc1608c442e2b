// The fetch op: request parsing, per-part reads as file ranges, and the header
// line that announces how many bytes of each part follow it.
#include "broker/fetch.h"

#include <algorithm>
#include <limits>

#include "broker/broker_context.h"
#include "broker/fetch_purgatory.h"
#include "proto/request_fields.h"
#include "proto/json_scan.h"
#include "proto/message.h"
#include "proto/wire.h"
#include "storage/partition_log.h"

namespace kreek::broker {

using proto::read_int, proto::require_int, proto::require_topic;

using json = nlohmann::ordered_json;

namespace {

constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

Status parse_part(const json& obj, FetchPart& out) {
  KREEK_RETURN_IF_ERROR(require_topic(obj, out.topic));
  int64_t p = 0;
  KREEK_RETURN_IF_ERROR(require_int(obj, "partition", 0, std::numeric_limits<int32_t>::max(), p));
  out.partition = static_cast<int32_t>(p);
  return require_int(obj, "offset", 0, kMaxInt64, out.offset);
}

void append_part_prefix(std::string& out, const FetchPart& part) {
  out += "{\"topic\":";
  proto::append_json_string(out, part.topic);
  out += ",\"partition\":";
  out += std::to_string(part.partition);
}

void append_part_error(std::string& out, const FetchPart& part, const Status& s,
                       const json& extra = json::object()) {
  append_part_prefix(out, part);
  // code and message first, as in every error object
  out += ",\"error\":{\"code\":";
  out += json(std::string(code_name(s.code()))).dump();
  out += ",\"message\":";
  out += json(s.message()).dump(-1, ' ', false, json::error_handler_t::replace);
  for (const auto& [k, v] : extra.items()) {
    out += ",";
    out += json(k).dump();
    out += ":";
    out += v.dump();
  }
  out += "},\"bytes\":0}";
}

}  // namespace

Status parse_fetch(const json& req, std::string id_raw, FetchRequest& out) {
  out = FetchRequest{};
  out.id_raw = std::move(id_raw);
  auto parts = req.find("parts");
  if (parts != req.end() && !parts->is_null()) {
    if (req.contains("topic") || req.contains("partition") || req.contains("offset"))
      return invalid_request("use either \"parts\" or \"topic\"/\"partition\"/\"offset\", not both");
    if (!parts->is_array() || parts->empty())
      return invalid_request("\"parts\" must be a non-empty array of {topic, partition, offset}");
    out.parts.reserve(parts->size());
    for (size_t i = 0; i < parts->size(); ++i) {
      const json& p = (*parts)[i];
      if (!p.is_object())
        return invalid_request("\"parts\" must be a non-empty array of {topic, partition, offset}");
      FetchPart part;
      Status s = parse_part(p, part);
      if (!s.is_ok()) return s.with_context("parts[" + std::to_string(i) + "]");
      out.parts.push_back(std::move(part));
    }
  } else {
    FetchPart part;
    KREEK_RETURN_IF_ERROR(parse_part(req, part));
    out.parts.push_back(std::move(part));
  }
  std::optional<int64_t> v;
  KREEK_RETURN_IF_ERROR(read_int(req, "max_bytes", 0, kMaxInt64, v));
  out.max_bytes = std::min(v.value_or(proto::kDefaultFetchMaxBytes), proto::kMaxFetchMaxBytes);
  KREEK_RETURN_IF_ERROR(read_int(req, "max_wait_ms", 0, kMaxInt64, v));
  out.max_wait_ms = std::min(v.value_or(0), proto::kMaxFetchWaitMs);
  KREEK_RETURN_IF_ERROR(read_int(req, "min_bytes", 0, kMaxInt64, v));
  out.min_bytes = v.value_or(1);
  return Status::ok();
}

FetchOutcome read_fetch(BrokerContext& ctx, const FetchRequest& req) {
  FetchOutcome out;
  std::string& head = out.response.head;
  head.reserve(64 + req.parts.size() * 96);
  head += "{\"id\":";
  head += req.id_raw;
  head += ",\"ok\":true,\"parts\":[";
  for (size_t i = 0; i < req.parts.size(); ++i) {
    const FetchPart& part = req.parts[i];
    if (i > 0) head += ',';
    PartitionId pid(part.partition);
    storage::PartitionLog* log = ctx.logs.log(part.topic, pid);
    if (log == nullptr) {
      out.has_error = true;
      if (ctx.logs.topic(part.topic) == nullptr) {
        append_part_error(head, part,
                          Status(Code::kUnknownTopic, "topic \"" + part.topic + "\" does not exist"));
      } else {
        append_part_error(head, part,
                          Status(Code::kUnknownPartition, "topic \"" + part.topic +
                                                              "\" has no partition " +
                                                              std::to_string(part.partition)));
      }
      continue;
    }
    if (Status lead = ctx.leadership(part.topic, pid); !lead.is_ok()) {
      out.has_error = true;
      append_part_error(head, part, lead);
      continue;
    }
    // Standalone, the high watermark is the log end: every append is "replicated".
    Offset hw = log->log_end();
    Offset start = log->log_start();
    Offset from(part.offset);
    if (from < start || from > hw) {
      out.has_error = true;
      json extra = {{"log_start", start.value()}, {"log_end", hw.value()}};
      append_part_error(head, part,
                        Status(Code::kOffsetOutOfRange,
                               "offset " + std::to_string(part.offset) + " is out of range for " +
                                   part.topic + "/" + std::to_string(part.partition) + " [" +
                                   std::to_string(start.value()) + ", " +
                                   std::to_string(hw.value()) + "]"),
                        extra);
      continue;
    }
    int64_t part_bytes = 0;
    if (from < hw) {
      int64_t budget = std::max<int64_t>(req.max_bytes - out.bytes, 0);
      // A read stops before damage; one that starts at it gets CORRUPT_RECORD.
      auto r = log->read(from, budget, hw);
      if (!r.is_ok()) {
        out.has_error = true;
        append_part_error(head, part, r.status());
        continue;
      }
      for (auto& slice : r->slices) {
        if (slice.len <= 0) continue;
        out.response.ranges.push_back(net::FileRange{slice.fd, slice.pos, slice.len, slice.file});
        part_bytes += slice.len;
      }
      if (part_bytes == 0) out.skipped_gap = true;
    }
    out.bytes += part_bytes;
    append_part_prefix(head, part);
    head += ",\"hw\":";
    head += std::to_string(hw.value());
    head += ",\"log_start\":";
    head += std::to_string(start.value());
    head += ",\"bytes\":";
    head += std::to_string(part_bytes);
    head += '}';
  }
  head += "]}\n";
  return out;
}

void handle_fetch(BrokerContext& ctx, const Request& req, const json& body, Reply reply) {
  FetchRequest fr;
  Status s = parse_fetch(body, std::string(req.id_raw), fr);
  if (!s.is_ok()) {
    ctx.reject(req, reply, s);
    return;
  }
  FetchOutcome out = read_fetch(ctx, fr);
  bool answer_now = out.has_error || out.skipped_gap || out.bytes >= fr.min_bytes || fr.max_wait_ms == 0 ||
                    ctx.loop == nullptr || ctx.stopping;
  if (answer_now) {
    reply.send(std::move(out.response));
    return;
  }
  ctx.purgatory->park(std::move(fr), std::move(reply));
}

}  // namespace kreek::broker
