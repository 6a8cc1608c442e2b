// The fetch op: request parsing, per-part reads as file ranges, and the header
// line that announces how many bytes of each part follow it.
#include "broker/fetch.h"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include "broker/broker_context.h"
#include "broker/fetch_purgatory.h"
#include "broker/replica_manager.h"
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
  KREEK_RETURN_IF_ERROR(require_int(obj, "offset", 0, kMaxInt64, out.offset));
  std::optional<int64_t> epoch;
  KREEK_RETURN_IF_ERROR(read_int(obj, "leader_epoch", -1, std::numeric_limits<int32_t>::max(), epoch));
  out.leader_epoch = static_cast<int32_t>(epoch.value_or(-1));
  return Status::ok();
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

Status parse_fetch(const json& req, std::string id_raw, FetchRequest& out, int64_t max_parts) {
  out = FetchRequest{};
  out.id_raw = std::move(id_raw);
  auto parts = req.find("parts");
  if (parts != req.end() && !parts->is_null()) {
    if (req.contains("topic") || req.contains("partition") || req.contains("offset"))
      return invalid_request("use either \"parts\" or \"topic\"/\"partition\"/\"offset\", not both");
    if (!parts->is_array() || parts->empty())
      return invalid_request("\"parts\" must be a non-empty array of {topic, partition, offset}");
    if (max_parts > 0 && parts->size() > static_cast<size_t>(max_parts))
      return invalid_request("a fetch may name at most " + std::to_string(max_parts) + " partitions (" +
                             std::to_string(parts->size()) + " given)");
    out.parts.reserve(parts->size());
    // One read per partition: a part named twice would be read (and answered) twice.
    std::set<std::pair<std::string_view, int32_t>> seen;
    for (size_t i = 0; i < parts->size(); ++i) {
      const json& p = (*parts)[i];
      if (!p.is_object())
        return invalid_request("\"parts\" must be a non-empty array of {topic, partition, offset}");
      FetchPart part;
      Status s = parse_part(p, part);
      if (!s.is_ok()) return s.with_context("parts[" + std::to_string(i) + "]");
      out.parts.push_back(std::move(part));
      const FetchPart& added = out.parts.back();  // reserve(): the view into it stays valid
      if (!seen.emplace(added.topic, added.partition).second)
        return invalid_request("parts[" + std::to_string(i) + "]: " + added.topic + "/" +
                               std::to_string(added.partition) + " is named more than once");
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
  KREEK_RETURN_IF_ERROR(read_int(req, "replica", 0, std::numeric_limits<int32_t>::max(), v));
  out.replica = static_cast<int32_t>(v.value_or(-1));
  KREEK_RETURN_IF_ERROR(read_int(req, "broker_epoch", 0, kMaxInt64, v));
  out.broker_epoch = v.value_or(-1);
  return Status::ok();
}

Status check_leader_epoch(BrokerContext& ctx, const std::string& topic, PartitionId p, int32_t epoch) {
  if (epoch < 0) return Status::ok();
  LeaderEpoch current = ctx.partitions.get(topic, p).epoch;
  std::string what = topic + "/" + std::to_string(p.value());
  if (epoch < current.value())
    return Status(Code::kFencedEpoch, what + ": leader epoch " + std::to_string(epoch) + " was superseded by " +
                                          std::to_string(current.value()));
  if (epoch > current.value())
    return Status(Code::kUnknownLeaderEpoch, what + ": leader epoch " + std::to_string(epoch) +
                                                 " is newer than this broker's " + std::to_string(current.value()));
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
      const storage::TopicInfo* t = ctx.logs.topic(part.topic);
      if (t != nullptr && part.partition < t->partitions) {
        // A partition of the topic this broker holds no replica of: say who leads it.
        Status lead = ctx.leadership(part.topic, pid);
        append_part_error(head, part, lead.is_ok() ? Status(Code::kLeaderNotAvailable, part.topic + "/" +
                                                                std::to_string(part.partition) + " has no replica here")
                                                   : lead);
      } else if (t == nullptr) {
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
    Status lead = ctx.leadership(part.topic, pid);
    if (lead.is_ok()) lead = check_leader_epoch(ctx, part.topic, pid, part.leader_epoch);
    if (!lead.is_ok()) {
      out.has_error = true;
      append_part_error(head, part, lead);
      continue;
    }
    const bool follower = req.replica >= 0;
    Offset from(part.offset);
    // A follower's fetch offset is its log end: it holds everything before.
    if (follower) ctx.replicas->on_follower_fetch(part.topic, pid, NodeId(req.replica), from, req.broker_epoch);
    Offset hw = ctx.replicas->high_watermark(part.topic, pid);
    Offset end = log->log_end();
    Offset start = log->log_start();
    // Consumers read below the high watermark; followers up to the log end.
    Offset limit = follower ? end : hw;
    if (from < start || from > end) {
      out.has_error = true;
      json extra = {{"log_start", start.value()}, {"log_end", end.value()}};
      append_part_error(head, part,
                        Status(Code::kOffsetOutOfRange,
                               "offset " + std::to_string(part.offset) + " is out of range for " +
                                   part.topic + "/" + std::to_string(part.partition) + " [" +
                                   std::to_string(start.value()) + ", " +
                                   std::to_string(end.value()) + "]"),
                        extra);
      continue;
    }
    // A consumer between the high watermark and the log end (a new leader
    // whose high watermark has not caught up yet) waits like one at the end.
    int64_t part_bytes = 0;
    // Set when nothing exists in [from, limit): compaction removed it all.
    int64_t gap_end = -1;
    // max_bytes holds across the request: a part is read only while some of
    // it is left, and the answer passes it by one batch at most (so a batch
    // larger than max_bytes still moves).
    const bool budget_spent = out.bytes > 0 && out.bytes >= req.max_bytes;
    if (from < limit && !budget_spent) {
      int64_t budget = std::max<int64_t>(req.max_bytes - out.bytes, 0);
      // A read stops before damage; one that starts at it gets CORRUPT_RECORD.
      auto r = log->read(from, budget, limit);
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
      if (part_bytes == 0) {
        out.skipped_gap = true;
        gap_end = limit.value();
      }
      if (part_bytes > 0) out.sent.push_back({i, part_bytes, r->next - from});
    }
    out.bytes += part_bytes;
    append_part_prefix(head, part);
    head += ",\"hw\":";
    head += std::to_string(hw.value());
    head += ",\"log_start\":";
    head += std::to_string(start.value());
    if (follower) {
      head += ",\"log_end\":";
      head += std::to_string(end.value());
    }
    head += ",\"bytes\":";
    head += std::to_string(part_bytes);
    // Only a gap moves the reader on; a part left unread because max_bytes
    // was spent on earlier parts has no "next" and is fetched again as is.
    if (gap_end >= 0) {
      head += ",\"next\":";
      head += std::to_string(gap_end);
    }
    head += '}';
  }
  head += "]}\n";
  return out;
}

void note_fetch_sent(BrokerContext& ctx, const FetchRequest& req, const FetchOutcome& out) {
  for (const FetchOutcome::PartSent& p : out.sent) {
    TopicStats& t = ctx.metrics.topic(req.parts[p.part].topic);
    if (req.replica >= 0) {
      t.replication_bytes_out += static_cast<uint64_t>(p.bytes);
    } else {
      t.bytes_out += static_cast<uint64_t>(p.bytes);
      t.records_out += static_cast<uint64_t>(p.records);
    }
  }
}

void handle_fetch(BrokerContext& ctx, const Request& req, const json& body, Reply reply) {
  FetchRequest fr;
  Status s = parse_fetch(body, std::string(req.id_raw), fr, ctx.config.max_fetch_parts);
  if (!s.is_ok()) {
    ctx.reject(req, reply, s);
    return;
  }
  FetchOutcome out = read_fetch(ctx, fr);
  bool answer_now = out.has_error || out.skipped_gap || out.bytes >= fr.min_bytes || fr.max_wait_ms == 0 ||
                    ctx.loop == nullptr || ctx.stopping;
  // Over its share of parked long polls, a connection's fetch is answered at
  // once with what there is (as with max_wait_ms 0), never left waiting.
  if (!answer_now && !ctx.purgatory->may_park(req.peer)) {
    ctx.purgatory->warn_full(req.peer);
    answer_now = true;
  }
  if (answer_now) {
    note_fetch_sent(ctx, fr, out);
    reply.send(std::move(out.response));
    return;
  }
  ctx.purgatory->park(std::move(fr), std::move(reply), out.bytes, std::string(req.peer));
}

}  // namespace kreek::broker
