// produce: validate the records array in place, check the producer's CRC,
// pick the partition, append the bytes verbatim, and acknowledge per acks
// (after write(2), or after the covering fsync when flush.messages=1).
#include "broker/produce.h"

#include <limits>
#include <optional>

#include "base/clock.h"
#include "base/crc32c.h"
#include "broker/broker_context.h"
#include "broker/fetch_purgatory.h"
#include "broker/fetch.h"
#include "broker/flush_scheduler.h"
#include "broker/group_ops.h"
#include "broker/replica_manager.h"
#include "broker/partition_choice.h"
#include "proto/request_fields.h"
#include "proto/record.h"
#include "proto/wire.h"
#include "storage/partition_log.h"

namespace kreek::broker {

using proto::scan_int, proto::scan_topic;

namespace {

enum class Acks { kNone, kLeader, kAll };

Status parse_acks(const proto::JsonScan& scan, Acks& out) {
  out = Acks::kLeader;
  int64_t i = scan.find(0, "acks");
  if (i < 0) return Status::ok();
  auto t = static_cast<uint32_t>(i);
  const proto::Token& tok = scan.at(t);
  int64_t v = 0;
  if (tok.type == proto::TokType::kNull) return Status::ok();
  if (tok.type == proto::TokType::kNumber && scan.get_int(t, v) && (v == 0 || v == 1 || v == -1)) {
    out = v == 0 ? Acks::kNone : v == 1 ? Acks::kLeader : Acks::kAll;
    return Status::ok();
  }
  if (tok.type == proto::TokType::kString && scan.raw(t) == "\"all\"") {
    out = Acks::kAll;
    return Status::ok();
  }
  return invalid_request("\"acks\" must be 0, 1, -1 or \"all\"");
}

std::string where(const std::string& topic, PartitionId p) {
  return topic + "/" + std::to_string(p.value());
}

// How long acks=all waits for the in-sync replicas unless the request says
// ("timeout_ms"), and the most it may say.
constexpr int64_t kDefaultProduceTimeoutMs = 30000;
constexpr int64_t kMaxProduceTimeoutMs = 300000;

// Sends the acknowledgement now, or after the covering fsync when the topic
// asks for one on every append (flush.messages=1).
void answer_when_durable(BrokerContext& ctx, const std::string& topic, PartitionId pid, Reply reply,
                         std::string_view id_raw, std::string line) {
  storage::PartitionLog* log = ctx.logs.log(topic, pid);
  if (log != nullptr && log->config().flush_always()) {
    ctx.flusher->reply_after_flush(topic, pid, std::move(reply), std::string(id_raw), std::move(line));
  } else {
    reply.send(std::move(line));
  }
}

// Sends `line` once the batch ending before `end` is acknowledged: with
// `all`, once the high watermark reaches `end` (every in-sync replica has it;
// REQUEST_TIMED_OUT or NOT_LEADER instead if that does not happen), and in
// any case after the covering fsync when the topic asks for one.
void acknowledge(BrokerContext& ctx, const std::string& topic, PartitionId pid, bool all,
                 std::optional<int64_t> timeout_ms, Reply reply, std::string_view id_raw, Offset end,
                 std::string line) {
  if (!all) return answer_when_durable(ctx, topic, pid, std::move(reply), id_raw, std::move(line));
  ctx.replicas->wait_for_high_watermark(
      topic, pid, end, timeout_ms.value_or(kDefaultProduceTimeoutMs),
      [&ctx, topic, pid, reply = std::move(reply), id = std::string(id_raw), line = std::move(line)](
          Status replicated) mutable {
        if (!replicated.is_ok()) {
          Request r;
          r.op = "produce";
          r.id_raw = id;
          ctx.reject(r, reply, replicated);
          return;
        }
        answer_when_durable(ctx, topic, pid, std::move(reply), id, std::move(line));
      });
}

// An idempotent producer's optional "pid", "pepoch" and "seq" (all or none;
// pepoch defaults to 0). No "pid": a plain batch (pid -1).
Status read_producer_fields(const proto::JsonScan& scan, storage::ProducerFields& out) {
  std::optional<int64_t> pid, pepoch, seq;
  Status s = scan_int(scan, 0, "pid", 0, std::numeric_limits<int64_t>::max(), pid);
  if (s.is_ok()) s = scan_int(scan, 0, "pepoch", 0, std::numeric_limits<int16_t>::max(), pepoch);
  if (s.is_ok()) s = scan_int(scan, 0, "seq", 0, std::numeric_limits<int32_t>::max(), seq);
  if (!s.is_ok()) return s;
  if (!pid) {
    if (seq || pepoch) return invalid_request("\"seq\" and \"pepoch\" need a \"pid\"");
    return Status::ok();
  }
  if (!seq) return invalid_request("\"pid\" needs a \"seq\" (the first record's sequence number)");
  out.pid = *pid;
  out.pepoch = static_cast<int16_t>(pepoch.value_or(0));
  out.seq = static_cast<int32_t>(*seq);
  return Status::ok();
}

// The answer to a batch the log already holds: its original offsets, and
// "duplicate":true so the producer knows nothing new was written.
std::string duplicate_answer(std::string_view id_raw, PartitionId p, const storage::SequenceCheck& seen) {
  return "{\"id\":" + std::string(id_raw) + ",\"ok\":true,\"partition\":" + std::to_string(p.value()) +
         ",\"base\":" + std::to_string(seen.base.value()) + ",\"last\":" + std::to_string(seen.last.value()) +
         ",\"duplicate\":true}\n";
}

}  // namespace

void handle_produce(BrokerContext& ctx, const Request& req, const proto::JsonScan& scan,
                    Reply reply) {
  Acks acks = Acks::kLeader;
  Status s = parse_acks(scan, acks);
  if (!s.is_ok()) return ctx.reject(req, reply, s);
  // Kafka's acks=0 contract: the producer hears nothing back, not even errors.
  const bool silent = acks == Acks::kNone;
  auto fail = [&](const Status& st) {
    // ...except that a producer writing to a broker that no longer leads the
    // partition must find out: its connection is closed (as Kafka does), so
    // it asks for metadata again instead of losing every later write.
    if (silent && (st.code() == Code::kNotLeader || st.code() == Code::kLeaderNotAvailable ||
                   st.code() == Code::kFencedEpoch || st.code() == Code::kUnknownLeaderEpoch)) {
      ctx.reject(req, reply, st, /*silent=*/true, nullptr, /*close=*/true);
      return;
    }
    ctx.reject(req, reply, st, silent);
  };

  std::string topic;
  if (s = scan_topic(scan, 0, topic); !s.is_ok()) return fail(s);
  if (s = check_internal_topic_use("produce", topic); !s.is_ok()) return fail(s);
  std::optional<int64_t> partition, crc, leader_epoch, timeout_ms;
  if (s = scan_int(scan, 0, "partition", 0, std::numeric_limits<int32_t>::max(), partition);
      !s.is_ok())
    return fail(s);
  if (s = scan_int(scan, 0, "leader_epoch", -1, std::numeric_limits<int32_t>::max(), leader_epoch); !s.is_ok())
    return fail(s);
  if (s = scan_int(scan, 0, "timeout_ms", 0, kMaxProduceTimeoutMs, timeout_ms); !s.is_ok()) return fail(s);
  if (s = scan_int(scan, 0, "crc", 0, std::numeric_limits<uint32_t>::max(), crc); !s.is_ok())
    return fail(s);
  int64_t ri = scan.find(0, "records");
  if (ri < 0) return fail(invalid_request("missing \"records\""));
  auto records_tok = static_cast<uint32_t>(ri);
  if (scan.at(records_tok).type != proto::TokType::kArray || scan.at(records_tok).size == 0)
    return fail(invalid_request("\"records\" must be a non-empty array of records"));
  if (scan.at(records_tok).size > static_cast<uint32_t>(proto::kMaxRecordsPerBatch))
    return fail(Status(Code::kMessageTooLarge,
                       "records array holds " + std::to_string(scan.at(records_tok).size) +
                           " records, more than " + std::to_string(proto::kMaxRecordsPerBatch)));
  auto n = proto::validate_records(scan, records_tok, proto::kMaxRecordsPerBatch);
  if (!n.is_ok()) return fail(n.status());
  std::string_view records = scan.raw(records_tok);
  uint32_t actual_crc = crc32c::value(records);
  if (crc && static_cast<uint32_t>(*crc) != actual_crc)
    return fail(corrupt("records crc " + std::to_string(*crc) +
                        " does not match the records bytes (crc32c " + std::to_string(actual_crc) +
                        ")"));

  auto info = ctx.find_topic(topic, /*create=*/true);
  if (!info.is_ok()) return fail(info.status());
  const storage::TopicInfo& t = **info;
  if (static_cast<int64_t>(records.size()) > t.config.max_message_bytes)
    return fail(Status(Code::kMessageTooLarge,
                       "records array is " + std::to_string(records.size()) +
                           " bytes, over max.message.bytes " +
                           std::to_string(t.config.max_message_bytes) + " of topic \"" + topic +
                           "\""));

  if (t.config.cleanup_compact) {
    if (s = require_keys(scan, records_tok, topic); !s.is_ok()) return fail(s);
  }

  PartitionId pid;
  if (partition) {
    if (*partition >= t.partitions)
      return fail(Status(Code::kUnknownPartition, "topic \"" + topic + "\" has no partition " +
                                                      std::to_string(*partition) + " (it has " +
                                                      std::to_string(t.partitions) + ")"));
    pid = PartitionId(static_cast<int32_t>(*partition));
  } else {
    auto key = batch_key(scan, records_tok);
    if (!key.is_ok()) return fail(key.status());
    pid = PartitionId(choose_partition(*key, t.partitions, ctx.round_robin[topic]));
  }

  if (Status lead = ctx.leadership(topic, pid); !lead.is_ok()) return fail(lead);
  if (leader_epoch) {
    if (s = check_leader_epoch(ctx, topic, pid, static_cast<int32_t>(*leader_epoch)); !s.is_ok()) return fail(s);
  }
  const PartitionState& ps = ctx.partitions.get(topic, pid);
  if (ps.offline) return fail(io_error(ps.offline_reason));
  if (acks == Acks::kAll && static_cast<int64_t>(ps.isr.size()) < t.config.min_insync_replicas)
    return fail(Status(Code::kNotEnoughReplicas,
                       where(topic, pid) + " has " + std::to_string(ps.isr.size()) +
                           " in-sync replicas, min.insync.replicas is " +
                           std::to_string(t.config.min_insync_replicas)));
  if (acks == Acks::kAll && ctx.replicas->isr_stalled(topic, pid))
    return fail(Status(Code::kNotEnoughReplicas,
                       where(topic, pid) + ": in-sync replicas stopped copying and the coordinator has not "
                                           "taken them out of the ISR (is this broker cut off?)"));
  storage::PartitionLog* log = ctx.logs.log(topic, pid);
  if (log == nullptr) return fail(internal_error("no log for " + where(topic, pid)));

  // --- idempotent producer: a retried batch is answered, not written twice ---
  storage::ProducerFields producer;
  if (s = read_producer_fields(scan, producer); !s.is_ok()) return fail(s);
  if (producer.pid >= 0) {
    auto seen = log->producers().check(producer.pid, producer.pepoch, producer.seq, *n);
    if (!seen.is_ok()) return fail(seen.status().with_context(where(topic, pid)));
    if (seen->duplicate) {
      // The original is answered again, under the same acks rules: with
      // acks=all only once the ISR has it (the first answer may have been
      // lost because the leader died before it was committed).
      if (silent) return reply.send_nothing();
      return acknowledge(ctx, topic, pid, acks == Acks::kAll, timeout_ms, std::move(reply), req.id_raw,
                         seen->last + 1, duplicate_answer(req.id_raw, pid, *seen));
    }
  }
  // --- end idempotent producer ---

  auto appended = log->append(records, *n, actual_crc, ps.epoch, TimestampMs(clock::now_ms()), producer);
  if (!appended.is_ok()) {
    if (appended.status().code() == Code::kIoError)
      // Rate-limited: a full disk fails every produce, and the log is on a disk too.
      ctx.warnings.warn_lazily([&] { return "append " + where(topic, pid) + ": " + appended.status().message(); },
                               log::Level::kError);
    return fail(appended.status());
  }
  TopicStats& traffic = ctx.metrics.topic(topic);
  traffic.bytes_in += records.size();
  traffic.records_in += static_cast<uint64_t>(*n);
  // The high watermark may move (a lone in-sync replica commits at once);
  // followers and consumers waiting on the partition are woken.
  ctx.replicas->on_append(topic, pid);
  // The append rolled a segment: sync the closed one in the background now,
  // not at the next tick, so few closed segments wait with unsynced bytes.
  if (log->has_unsynced_closed()) ctx.flusher->flush_closed(topic, pid);

  const bool needs_fsync = log->config().flush_always();
  if (silent) {
    if (needs_fsync) ctx.flusher->flush_partition(topic, pid);
    reply.send_nothing();
    return;
  }
  std::string line;
  line.reserve(96 + req.id_raw.size());
  line += "{\"id\":";
  line += req.id_raw;
  line += ",\"ok\":true,\"partition\":";
  line += std::to_string(pid.value());
  line += ",\"base\":";
  line += std::to_string(appended->base.value());
  line += ",\"last\":";
  line += std::to_string(appended->last.value());
  line += ",\"ts\":";
  line += std::to_string(appended->ts.value());
  line += "}\n";
  acknowledge(ctx, topic, pid, acks == Acks::kAll, timeout_ms, std::move(reply), req.id_raw, appended->last + 1,
              std::move(line));
}

}  // namespace kreek::broker
