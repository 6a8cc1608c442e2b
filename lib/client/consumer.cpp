// Consumer: fetch rounds, batch decoding and position tracking.
// The fetch request line is formatted by hand (topic names need no escaping
// per the topic name rule) because it is sent once per round on the hot path.
#include "client/consumer.h"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>

#include "base/clock.h"
#include "client/json_field.h"
#include "client/reply.h"
#include "proto/message.h"
#include "proto/wire.h"

namespace kreek::client {

std::string out_of_range_message(std::string_view topic, int32_t partition, int64_t offset,
                                 int64_t log_start, int64_t log_end) {
  std::string m(topic);
  m += '/' + std::to_string(partition) + ": offset " + std::to_string(offset) + " is out of range";
  if (log_start >= 0 && log_end >= 0)
    m += " [" + std::to_string(log_start) + ", " + std::to_string(log_end) + "]";
  return m;
}

int64_t reset_position(ResetPolicy policy, int64_t offset, int64_t log_start, int64_t log_end) {
  switch (policy) {
    case ResetPolicy::kNone: return offset;
    case ResetPolicy::kEarliest: return log_start;
    case ResetPolicy::kLatest: return log_end;
  }
  return offset;
}

namespace {
constexpr int64_t kMaxI64 = std::numeric_limits<int64_t>::max();
}  // namespace

Consumer::Consumer(Cluster& cluster, ConsumerOptions options)
    : cluster_(cluster), options_(std::move(options)) {
  outage_.on_waiting = options_.on_waiting;
  outage_.on_recovered = options_.on_recovered;
}

bool Consumer::all_done() const {
  return std::all_of(cursors_.begin(), cursors_.end(), [](const Cursor& c) { return c.done(); });
}

Result<int32_t> Consumer::partition_count() {
  KREEK_ASSIGN_OR_RETURN(const TopicMeta* t, cluster_.topic(options_.topic, /*auto_create=*/false));
  return t->partition_count();
}

Result<std::vector<PartitionOffsets>> Consumer::list_offsets(const std::vector<int32_t>& partitions,
                                                             const std::string& at) {
  return list_offsets(options_.topic, partitions, at);
}

Result<std::vector<PartitionOffsets>> Consumer::list_offsets(const std::string& topic,
                                                             const std::vector<int32_t>& partitions,
                                                             const std::string& at) {
  // The same patience as fetches (give_up_on_failure), counted on its own.
  const int saved_failures = std::exchange(failures_, 0);
  for (bool refresh = false;; refresh = true) {
    auto r = list_offsets_once(topic, partitions, at, refresh);
    if (r.is_ok() || !is_retriable(r.status().code()) || give_up_on_failure()) {
      failures_ = saved_failures;
      return r;
    }
    if (!cluster_.backoff(failures_)) {
      failures_ = saved_failures;
      return Status(Code::kTimeout, "interrupted");
    }
    ++failures_;
  }
}

Result<std::vector<PartitionOffsets>> Consumer::list_offsets_once(const std::string& topic,
                                                                  const std::vector<int32_t>& partitions,
                                                                  const std::string& at, bool refresh) {
  std::vector<int32_t> wanted = partitions;
  if (wanted.empty() || refresh) {
    KREEK_ASSIGN_OR_RETURN(const TopicMeta* t, cluster_.topic(topic, /*auto_create=*/false, refresh));
    if (wanted.empty())
      for (int32_t p = 0; p < t->partition_count(); ++p) wanted.push_back(p);
  }
  // Each partition's leader answers for it.
  std::map<std::string, std::vector<int32_t>> by_leader;
  for (int32_t p : wanted) {
    KREEK_ASSIGN_OR_RETURN(std::string addr, cluster_.leader_address(topic, p));
    by_leader[addr].push_back(p);
  }
  std::vector<PartitionOffsets> out;
  for (auto& [addr, parts] : by_leader) {
    proto::Json req = {{"op", "list_offsets"}, {"id", cluster_.next_id()},
                          {"topic", topic}, {"partitions", parts}};
    if (at == "earliest" || at == "latest")
      req["at"] = at;
    else
      req["at"] = std::stoll(at);
    KREEK_ASSIGN_OR_RETURN(BrokerConnection * conn, cluster_.connection(addr));
    auto resp = cluster_.call_on(*conn, req, cluster_.options().request_timeout_ms);
    if (!resp.is_ok()) {
      if (conn->is_broken()) cluster_.drop(addr);
      return resp.status();
    }
    try {
      for (const auto& p : resp->at("partitions")) {
        if (p.contains("error")) return proto::status_from_error_json(p["error"]);
        constexpr std::string_view what = "list_offsets response";
        PartitionOffsets po;
        KREEK_ASSIGN_OR_RETURN(int64_t partition,
                               int_field(p, what, "partition", 0, std::numeric_limits<int32_t>::max()));
        po.partition = static_cast<int32_t>(partition);
        KREEK_ASSIGN_OR_RETURN(po.offset, int_field(p, what, "offset", 0, kMaxI64));
        KREEK_ASSIGN_OR_RETURN(po.log_start, int_field(p, what, "log_start", 0, kMaxI64, 0));
        KREEK_ASSIGN_OR_RETURN(po.log_end, int_field(p, what, "log_end", 0, kMaxI64, po.offset));
        out.push_back(po);
      }
    } catch (const nlohmann::json::exception& e) {
      return Status(Code::kProtocol, std::string("malformed list_offsets response: ") + e.what());
    }
  }
  std::sort(out.begin(), out.end(),
            [](const PartitionOffsets& a, const PartitionOffsets& b) { return a.partition < b.partition; });
  return out;
}

bool Consumer::give_up_on_failure() {
  if (options_.wait_for_brokers) return false;
  int64_t now = clock::monotonic_ms();
  if (failures_ == 0) failing_since_ms_ = now;
  return failures_ >= cluster_.options().max_retries && now - failing_since_ms_ >= options_.ride_out_ms;
}

Status Consumer::note_failure(const std::string& addr, const Status& s) {
  cluster_.drop(addr);
  refresh_ = true;
  if (s.message() == "interrupted") return Status::ok();  // the caller sees the stop flag
  if (!is_retriable(s.code())) return s;
  if (give_up_on_failure()) return s;
  if (options_.wait_for_brokers) outage_.failed(s);
  if (!cluster_.backoff(failures_)) return Status::ok();
  ++failures_;
  return Status::ok();
}

Status Consumer::poll(RecordSink& sink, bool& stopped) {
  stopped = false;
  if (refresh_) {
    refresh_ = false;
    std::vector<const std::string*> topics;
    for (const Cursor& c : cursors_)
      if (std::none_of(topics.begin(), topics.end(), [&](const std::string* t) { return *t == topic_of(c); }))
        topics.push_back(&topic_of(c));
    if (topics.empty()) topics.push_back(&options_.topic);
    for (const std::string* name : topics) {
      if (name->empty()) continue;
      auto t = cluster_.topic(*name, /*auto_create=*/false, /*refresh=*/true);
      if (!t.is_ok()) {
        if (!is_retriable(t.status().code())) return t.status();
        return note_failure("", t.status());
      }
    }
  }
  // Group unfinished partitions by leader; rotate the order so one busy
  // partition cannot take every fetch's max_bytes. A partition without a
  // leader is skipped this round: the others are still read.
  std::map<std::string, std::vector<size_t>> groups;
  Status leaderless;
  const size_t n = cursors_.size();
  for (size_t k = 0; k < n; ++k) {
    size_t i = (k + rotate_) % n;
    if (cursors_[i].done()) continue;
    auto addr = cluster_.leader_address(topic_of(cursors_[i]), cursors_[i].partition);
    if (!addr.is_ok()) {
      if (!is_retriable(addr.status().code())) return addr.status();
      if (leaderless.is_ok()) leaderless = addr.status();
      refresh_ = true;
      continue;
    }
    groups[*addr].push_back(i);
  }
  ++rotate_;
  if (groups.empty()) return leaderless.is_ok() ? Status::ok() : note_failure("", leaderless);
  // Every leader gets its fetch before any answer is read, so the long polls
  // run side by side: a round lasts as long as the slowest broker, not the sum.
  std::vector<std::pair<const std::string*, std::vector<size_t>*>> sent;
  std::string failed_addr;
  Status failed;
  for (auto& [addr, idx] : groups) {
    Status s = send_fetch(addr, idx);
    if (s.is_ok()) {
      sent.emplace_back(&addr, &idx);
    } else if (failed.is_ok()) {
      failed = s;
      failed_addr = addr;
    } else {
      cluster_.drop(addr);
    }
  }
  for (size_t k = 0; k < sent.size(); ++k) {
    const std::string& addr = *sent[k].first;
    Status s = read_fetch(addr, *sent[k].second, sink, stopped);
    if (s.is_ok()) continue;
    // Answers not read yet would be out of step on a later round.
    for (size_t j = k + 1; j < sent.size(); ++j) cluster_.drop(*sent[j].first);
    if (!is_retriable(s.code())) return s;
    if (failed.is_ok()) {
      failed = s;
      failed_addr = addr;
    } else {
      cluster_.drop(addr);
    }
    break;
  }
  if (!failed.is_ok()) return note_failure(failed_addr, failed);
  if (leaderless.is_ok()) outage_.succeeded();  // with a partition still unled, not yet
  return Status::ok();
}

Status Consumer::send_fetch(const std::string& addr, const std::vector<size_t>& idx) {
  auto conn_or = cluster_.connection(addr);
  if (!conn_or.is_ok()) return conn_or.status();
  BrokerConnection& conn = **conn_or;

  request_.clear();
  request_ += "{\"op\":\"fetch\",\"id\":";
  request_ += std::to_string(cluster_.next_id());
  request_ += ",\"parts\":[";
  for (size_t k = 0; k < idx.size(); ++k) {
    const Cursor& c = cursors_[idx[k]];
    if (k > 0) request_ += ',';
    request_ += "{\"topic\":\"";
    request_ += topic_of(c);
    request_ += "\",\"partition\":";
    request_ += std::to_string(c.partition);
    request_ += ",\"offset\":";
    request_ += std::to_string(c.next);
    if (int32_t epoch = cluster_.leader_epoch(topic_of(c), c.partition); epoch >= 0) {
      request_ += ",\"leader_epoch\":";
      request_ += std::to_string(epoch);
    }
    request_ += '}';
  }
  request_ += "],\"max_bytes\":";
  request_ += std::to_string(options_.max_bytes);
  request_ += ",\"max_wait_ms\":";
  request_ += std::to_string(options_.max_wait_ms);
  request_ += "}\n";
  return conn.write_all(request_);
}

// Errors that are retriable leave the caller to note the failure (and drop
// the connection); others are returned as they are.
Status Consumer::read_fetch(const std::string& addr, std::vector<size_t>& idx, RecordSink& sink,
                            bool& stopped) {
  auto conn_or = cluster_.connection(addr);
  if (!conn_or.is_ok()) return conn_or.status();
  BrokerConnection& conn = **conn_or;
  auto header = conn.read_line(options_.max_wait_ms + cluster_.options().request_timeout_ms);
  if (!header.is_ok()) return header.status();
  auto resp = parse_reply(conn, *header);
  if (!resp.is_ok()) {
    cluster_.drop(addr);
    return resp.status();
  }
  auto parts_or = proto::parse_fetch_header(*resp);
  if (!parts_or.is_ok()) return parts_or.status();
  std::vector<proto::FetchPart>& parts = *parts_or;
  if (parts.size() != idx.size())
    return Status(Code::kProtocol, "fetch response from " + addr + " has " +
                                       std::to_string(parts.size()) + " parts, asked for " +
                                       std::to_string(idx.size()));
  // The broker sends at most max_bytes, or one batch when the first is larger,
  // and a batch is no larger than the request line that carried it. Checked
  // before any part is read, so an absurd "bytes" never becomes an allocation.
  const int64_t limit = std::max<int64_t>(options_.max_bytes, 0) + proto::kDefaultMaxRequestBytes;
  int64_t announced = 0;
  for (const proto::FetchPart& part : parts) {
    if (part.bytes > limit - announced) {
      cluster_.drop(addr);
      return Status(Code::kProtocol, "fetch response from " + addr + " announces more than " +
                                         std::to_string(limit) + " bytes (max_bytes " +
                                         std::to_string(options_.max_bytes) + " plus one batch)");
    }
    announced += part.bytes;
  }
  failures_ = 0;
  for (size_t k = 0; k < parts.size(); ++k) {
    Cursor& c = cursors_[idx[k]];
    const proto::FetchPart& part = parts[k];
    if (part.partition != c.partition || (!part.topic.empty() && part.topic != topic_of(c)) || part.bytes < 0)
      return Status(Code::kProtocol, "fetch response from " + addr + " does not match its request");
    auto payload = conn.read_exact(static_cast<size_t>(part.bytes),
                                   cluster_.options().request_timeout_ms);
    if (!payload.is_ok()) return payload.status();
    if (!part.error.is_ok()) {
      KREEK_RETURN_IF_ERROR(handle_part_error(c, part.error, part.error_json));
      continue;
    }
    // After the sink asked to stop, the remaining parts are read (to keep the
    // connection in step) but not delivered.
    if (!stopped) KREEK_RETURN_IF_ERROR(deliver(c, *payload, sink, stopped));
    // "next" says compaction removed every offset up to it: continue there.
    // An empty part without it was not read (max_bytes went to earlier
    // parts) and is asked for again from the same position.
    if (!stopped && part.bytes == 0 && part.next > c.next) c.next = part.next;
  }
  return Status::ok();
}

Status Consumer::deliver(Cursor& c, std::string_view payload, RecordSink& sink, bool& stopped) {
  ConsumedRecord out;
  out.topic = topic_of(c);
  out.partition = c.partition;
  std::string_view line;
  while (proto::take_line(payload, line)) {
    Status s = decoder_.reset(line);
    if (!s.is_ok()) return s.with_context("partition " + std::to_string(c.partition));
    const proto::BatchMeta& b = decoder_.batch();
    if (b.base.value() + b.n <= c.next) continue;  // wholly before our position
    while (decoder_.next()) {
      int64_t off = decoder_.offset().value();
      if (off < c.next) continue;  // the batch straddles the position asked for
      if (c.stop >= 0 && off >= c.stop) {
        // Offsets before `off` that were not delivered were compacted away.
        c.next = std::max(c.next, c.stop);
        return Status::ok();
      }
      const proto::Record& rec = decoder_.record();
      out.offset = off;
      out.timestamp = rec.ts ? *rec.ts : b.ts.value();
      out.record = &rec;
      c.next = off + 1;
      if (!sink.on_record(out)) {
        stopped = true;
        return Status::ok();
      }
    }
    if (!decoder_.status().is_ok())
      return decoder_.status().with_context("partition " + std::to_string(c.partition));
  }
  if (!payload.empty())
    return Status(Code::kProtocol, "fetch data for partition " + std::to_string(c.partition) +
                                       " ends inside a batch line");
  return Status::ok();
}

Status Consumer::handle_part_error(Cursor& c, const Status& error, const proto::Json& error_json) {
  if (error.code() == Code::kOffsetOutOfRange) {
    constexpr std::string_view what = "OFFSET_OUT_OF_RANGE error";
    KREEK_ASSIGN_OR_RETURN(int64_t log_start, int_field(error_json, what, "log_start", 0, kMaxI64, -1));
    KREEK_ASSIGN_OR_RETURN(int64_t log_end, int_field(error_json, what, "log_end", 0, kMaxI64, -1));
    std::string where = out_of_range_message(topic_of(c), c.partition, c.next, log_start, log_end);
    if (options_.reset == ResetPolicy::kNone || log_start < 0 || log_end < 0)
      return Status(Code::kOffsetOutOfRange, where);
    c.next = reset_position(options_.reset, c.next, log_start, log_end);
    if (options_.on_notice) options_.on_notice(where + ", reset to " + std::to_string(c.next));
    return Status::ok();
  }
  if (is_retriable(error.code())) {  // NOT_LEADER and friends: find the new leader
    refresh_ = true;
    if (give_up_on_failure()) return error;
    ++failures_;
    cluster_.backoff(failures_ - 1);
    return Status::ok();
  }
  return error.with_context("partition " + std::to_string(c.partition));
}

}  // namespace kreek::client
