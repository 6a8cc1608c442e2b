// Producer: per-partition batching, pipelined produce requests, ack tracking
// and retries bounded by the delivery timeout. Nothing here allocates per record in steady state: a
// record is encoded into a reused buffer and appended to its partition's batch;
// batch buffers are recycled once acknowledged.
#include "client/producer.h"

#include <poll.h>

#include <algorithm>
#include <cstdlib>

#include "base/clock.h"
#include "base/json_value.h"
#include "client/interrupt.h"
#include "client/reply.h"
#include "proto/message.h"
#include "proto/wire.h"

namespace kreek::client {
namespace {

// Room for the request envelope around the records array in one request line.
constexpr int64_t kEnvelopeSlack = 1024;
// A batch buffer smaller than this is swapped for a recycled, already grown one.
constexpr size_t kReuseBytes = 4096;

// config[key] as a positive integer (a JSON number or a string of digits), or
// `fallback`.
int64_t config_int(const proto::Json& config, const char* key, int64_t fallback) {
  auto it = config.find(key);
  if (it == config.end()) return fallback;
  if (it->is_number_integer()) return json_int_in(*it, 1).value_or(fallback);
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (end != s.c_str() && *end == '\0' && v >= 1) return v;
  }
  return fallback;
}

}  // namespace

Producer::Producer(Cluster& cluster, ProducerOptions options)
    : cluster_(cluster), options_(std::move(options)) {
  outage_.on_waiting = options_.on_waiting;
  outage_.on_recovered = options_.on_recovered;
}

Producer::~Producer() = default;

Status Producer::start() {
  // A topic that cannot be had yet (being created, coordinator away) is a
  // retriable state like any other: wait for it up to the delivery timeout.
  auto found = cluster_.topic(options_.topic, /*auto_create=*/true);
  int64_t deadline = clock::monotonic_ms() + options_.delivery_timeout_ms;
  for (int attempt = 0; !found.is_ok() && found.status().code() == Code::kLeaderNotAvailable &&
                        clock::monotonic_ms() < deadline;
       ++attempt) {
    if (!cluster_.backoff(attempt)) break;
    found = cluster_.topic(options_.topic, /*auto_create=*/true, /*refresh=*/true);
  }
  KREEK_ASSIGN_OR_RETURN(const TopicMeta* t, std::move(found));
  partitions_ = t->partition_count();
  int64_t max_message = config_int(t->config, "max.message.bytes", proto::kDefaultMaxBatchBytes);
  batch_limit_ = std::max<int64_t>(1, std::min(options_.batch_bytes, max_message));
  batches_.resize(static_cast<size_t>(partitions_));
  if (options_.partition && (*options_.partition < 0 || *options_.partition >= partitions_))
    return Status(Code::kUnknownPartition, "topic \"" + options_.topic + "\" has no partition " +
                                               std::to_string(*options_.partition));
  // Start the sticky rotation somewhere different per process, so many short
  // kproduce runs do not all pile onto partition 0.
  chooser_ = PartitionChooser(partitions_, static_cast<int32_t>(clock::monotonic_us() % partitions_));
  if (options_.idempotent && options_.acks != 0) {
    if (options_.resume && options_.resume->producer_id >= 0) {
      resume_idempotence(*options_.resume);
    } else {
      KREEK_RETURN_IF_ERROR(init_idempotence());
    }
  }
  return Status::ok();
}

void Producer::resume_idempotence(const ProducerResume& r) {
  producer_id_ = r.producer_id;
  producer_epoch_ = r.producer_epoch;
  next_sequence_.assign(static_cast<size_t>(partitions_), 0);
  seq_known_.assign(static_cast<size_t>(partitions_), false);
  for (const auto& [p, next] : r.next_sequence) {
    if (p < 0 || p >= partitions_) continue;  // the topic lost partitions: nothing to continue there
    next_sequence_[static_cast<size_t>(p)] = next;
    // The broker knows the id there: a refused batch leaves a hole to close.
    seq_known_[static_cast<size_t>(p)] = true;
  }
  options_.max_in_flight = std::min(options_.max_in_flight, 5);
}

Status Producer::init_idempotence() {
  // One attempt, no waiting: producing must go on while the coordinator that
  // allocates ids is away (brokers keep serving their partitions meanwhile),
  // so without an id the producer runs at-least-once and says so.
  auto answer = cluster_.call({{"op", "init_producer_id"}});
  if (!answer.is_ok()) {
    not_idempotent_ = answer.status();
    return Status::ok();
  }
  proto::Json r = std::move(*answer);
  auto id = r.find("producer_id");
  if (id == r.end() || !id->is_number_integer() || id->get<int64_t>() < 0)
    return Status(Code::kProtocol, "init producer id: the answer has no producer_id");
  producer_id_ = id->get<int64_t>();
  auto epoch = r.find("producer_epoch");
  if (epoch != r.end() && epoch->is_number_integer() && epoch->get<int64_t>() >= 0 &&
      epoch->get<int64_t>() <= INT16_MAX)
    producer_epoch_ = static_cast<int16_t>(epoch->get<int64_t>());
  next_sequence_.assign(static_cast<size_t>(partitions_), 0);
  seq_known_.assign(static_cast<size_t>(partitions_), false);
  // A broker remembers a producer's last 5 batches per partition (Kafka's
  // limit for idempotence): a resend of an older one could not be recognised.
  options_.max_in_flight = std::min(options_.max_in_flight, 5);
  return Status::ok();
}

namespace {

// Adds the idempotence fields to a produce request line ending in "}\n".
void append_producer_fields(std::string& request, int64_t pid, int16_t pepoch, int32_t seq) {
  request.resize(request.size() - 2);
  request += ",\"pid\":";
  request += std::to_string(pid);
  request += ",\"pepoch\":";
  request += std::to_string(pepoch);
  request += ",\"seq\":";
  request += std::to_string(seq);
  request += "}\n";
}

// The leader epoch the producer's metadata names (see Cluster::leader_epoch).
void append_leader_epoch(std::string& request, int32_t epoch) {
  if (epoch < 0) return;
  request.resize(request.size() - 2);
  request += ",\"leader_epoch\":";
  request += std::to_string(epoch);
  request += "}\n";
}

}  // namespace

void Producer::recycle(std::string& buf) {
  buf.clear();
  if (spare_.size() < 64) spare_.push_back(std::move(buf));
}

void Producer::fail_local(const Status& why, uint64_t tag) {
  ++stats_.records;
  ++stats_.failed;
  if (stats_.first_error.is_ok()) stats_.first_error = why;
  if (options_.on_delivery) report(-1, std::vector<uint64_t>{tag}, -1, -1, why);
}

void Producer::report(int32_t partition, const std::vector<uint64_t>& tags, int64_t base, int64_t ts,
                      const Status& status) {
  if (!options_.on_delivery || tags.empty()) return;
  Delivery d;
  d.partition = partition;
  d.base_offset = base;
  d.timestamp = ts;
  d.tags = &tags;
  d.status = status;
  options_.on_delivery(d);
}

Status Producer::send(const proto::Record& record, std::optional<int32_t> partition, uint64_t tag) {
  record_buf_.clear();
  proto::append_record_json(record_buf_, record);
  if (static_cast<int64_t>(record_buf_.size()) > proto::kDefaultMaxRequestBytes - kEnvelopeSlack) {
    fail_local(Status(Code::kMessageTooLarge, "record of " + std::to_string(record_buf_.size()) +
                                                  " bytes exceeds the request size limit"),
               tag);
    return Status::ok();
  }
  bool sticky = !options_.partition && !partition && !record.key;
  int32_t p = options_.partition ? *options_.partition
              : partition        ? *partition
                                 : chooser_.choose(record.key);
  if (p < 0 || p >= partitions_) {
    fail_local(Status(Code::kUnknownPartition,
                      "topic \"" + options_.topic + "\" has no partition " + std::to_string(p)),
               tag);
    return Status::ok();
  }
  if (sticky && partition_waits(p))
    p = chooser_.skip_to_free([this](int32_t q) { return !partition_waits(q); });
  // A record bound to a partition whose batches wait (its key or -p chose it;
  // or every partition waits) waits with them: sending it elsewhere would
  // break the key's order, and queueing more would only grow the backlog.
  while (partition_waits(p) && fatal_.is_ok() && !stop_requested())
    KREEK_RETURN_IF_ERROR(service(-1, -1).status());
  if (!fatal_.is_ok()) {
    fail_local(fatal_, tag);
    return Status::ok();
  }
  ++stats_.records;
  Batch* b = &batches_[static_cast<size_t>(p)];
  // A record that would overflow its batch sends the batch first. Keyless
  // records then follow the sticky partition, whose batch may be full too.
  while (b->count > 0 &&
         static_cast<int64_t>(b->records.size() + record_buf_.size() + 2) > batch_limit_) {
    send_batch(p);
    if (!sticky) break;
    p = chooser_.sticky();
    b = &batches_[static_cast<size_t>(p)];
  }
  if (b->count == 0) {
    if (b->records.capacity() < kReuseBytes && !spare_.empty()) {
      b->records = std::move(spare_.back());
      spare_.pop_back();
    }
    b->records.clear();
    b->tags.clear();
    b->records.push_back('[');
    b->first_ms = clock::monotonic_ms();
  } else {
    b->records.push_back(',');
  }
  b->records.append(record_buf_);
  if (options_.on_delivery) b->tags.push_back(tag);
  ++b->count;
  if (static_cast<int64_t>(b->records.size() + 1) >= batch_limit_ || b->count >= proto::kMaxRecordsPerBatch)
    send_batch(p);
  return Status::ok();
}

Status Producer::send_numbered(int32_t partition, int32_t first_seq, const std::vector<proto::Record>& records,
                               std::vector<uint64_t> tags) {
  if (records.empty()) return Status::ok();
  if (partition < 0 || partition >= partitions_) {
    for (uint64_t t : tags) fail_local(Status(Code::kUnknownPartition, "topic \"" + options_.topic +
                                                                         "\" has no partition " +
                                                                         std::to_string(partition)),
                                       t);
    return Status::ok();
  }
  // An open batch of the partition stays open: it is numbered when it is
  // sent, after the numbers resent here, so it must go after them too.
  InFlight req;
  req.seq = next_seq_++;
  req.partition = partition;
  req.count = static_cast<int32_t>(records.size());
  req.created_ms = clock::monotonic_ms();
  req.first_seq = first_seq;
  req.records = "[";
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0) req.records.push_back(',');
    proto::append_record_json(req.records, records[i]);
  }
  req.records.push_back(']');
  if (options_.on_delivery) req.tags = std::move(tags);
  stats_.records += req.count;
  if (!hold_behind_retries(req)) transmit(std::move(req));
  process_retries();
  return Status::ok();
}

void Producer::send_batch(int32_t partition) {
  Batch& b = batches_[static_cast<size_t>(partition)];
  if (b.count == 0) return;
  InFlight req;
  req.seq = next_seq_++;
  req.partition = partition;
  req.count = b.count;
  req.created_ms = b.first_ms;
  if (is_idempotent()) {
    // Numbered once, when the batch is made: resends keep the numbers.
    int32_t& next = next_sequence_[static_cast<size_t>(partition)];
    req.first_seq = next;
    next = static_cast<int32_t>((static_cast<int64_t>(next) + b.count) % (static_cast<int64_t>(INT32_MAX) + 1));
  }
  b.records.push_back(']');
  req.records = std::move(b.records);
  b.records = std::string();
  req.tags = std::move(b.tags);
  b.tags = std::vector<uint64_t>();
  b.count = 0;
  chooser_.on_batch_sent(partition);
  if (options_.on_batch && is_idempotent()) options_.on_batch(partition, req.first_seq, req.tags);
  if (!hold_behind_retries(req)) transmit(std::move(req));
  process_retries();
}

bool Producer::hold_behind_retries(InFlight& req) {
  bool waiting = std::any_of(retries_.begin(), retries_.end(),
                             [&](const InFlight& r) { return r.partition == req.partition; });
  if (!waiting) return false;
  enqueue_retry(std::move(req));
  return true;
}

void Producer::enqueue_retry(InFlight req) {
  // Requests that come back (a broken link, a retriable error) are older than
  // the ones still queued for their partition, so they go in by seq, not last.
  auto at = std::upper_bound(retries_.begin(), retries_.end(), req.seq,
                             [](uint64_t seq, const InFlight& r) { return seq < r.seq; });
  retries_.insert(at, std::move(req));
}

Result<Producer::Link*> Producer::link_for(int32_t partition) {
  KREEK_ASSIGN_OR_RETURN(std::string addr, cluster_.leader_address(options_.topic, partition));
  auto& slot = links_[addr];
  if (!slot) {
    slot = std::make_unique<Link>();
    slot->addr = addr;
  }
  if (slot->conn == nullptr) {
    KREEK_ASSIGN_OR_RETURN(slot->conn, cluster_.connection(addr));
  }
  return slot.get();
}

void Producer::transmit(InFlight req) {
  if (!fatal_.is_ok()) {
    give_up(req, fatal_);
    return;
  }
  auto l = link_for(req.partition);
  if (!l.is_ok()) {
    schedule_retry(std::move(req), l.status());
    return;
  }
  Link& link = **l;
  if (options_.acks != 0) {
    await_capacity(link);
    if (link.conn == nullptr) {
      schedule_retry(std::move(req), Status(Code::kUnavailable, "connection to " + link.addr + " lost"));
      return;
    }
  }
  link.out.clear();
  proto::append_produce_request(link.out, cluster_.next_id(), options_.topic, PartitionId(req.partition),
                                options_.acks, req.records);
  if (is_idempotent()) append_producer_fields(link.out, producer_id_, producer_epoch_, req.first_seq);
  append_leader_epoch(link.out, cluster_.leader_epoch(options_.topic, req.partition));
  req.sent_ms = clock::monotonic_ms();
  Status w = link.conn->write_all(link.out);
  if (!w.is_ok()) {
    break_link(link, w);
    schedule_retry(std::move(req), w);
    return;
  }
  if (options_.acks == 0) {  // no response will come: written is all we learn
    outage_.succeeded();
    stats_.acked += req.count;
    report(req.partition, req.tags, -1, -1, Status::ok());
    recycle(req.records);
    return;
  }
  link.in_flight.push_back(std::move(req));
}

void Producer::await_capacity(Link& link) {
  while (link.conn != nullptr &&
         link.in_flight.size() >= static_cast<size_t>(std::max(1, options_.max_in_flight))) {
    const int64_t deadline = reply_deadline(link);
    auto line = link.conn->read_line(static_cast<int>(std::max<int64_t>(1, deadline - clock::monotonic_ms())));
    if (!line.is_ok()) {
      break_link(link, line.status());
      return;
    }
    handle_response(link, *line);
    drain_lines(link);
  }
}

void Producer::drain_lines(Link& link) {
  std::string_view line;
  while (link.conn != nullptr && link.conn->next_buffered_line(line)) handle_response(link, line);
}

void Producer::handle_response(Link& link, std::string_view line) {
  if (link.in_flight.empty()) {
    break_link(link, Status(Code::kProtocol, "unexpected response from " + link.addr));
    return;
  }
  InFlight req = std::move(link.in_flight.front());
  link.in_flight.pop_front();
  auto r = parse_reply(*link.conn, line);
  if (!r.is_ok()) {  // not protocol: nothing more on this connection can be trusted
    give_up(req, r.status());
    break_link(link, r.status());
    return;
  }
  Status s = proto::response_status(*r);
  if (s.is_ok()) {
    // With one broker down, acks from the others are no recovery.
    if (retries_.empty()) outage_.succeeded();
    stats_.acked += req.count;
    if (auto d = r->find("duplicate"); d != r->end() && *d == true) stats_.duplicates += req.count;
    if (is_idempotent()) seq_known_[static_cast<size_t>(req.partition)] = true;
    if (options_.on_delivery) {
      auto field = [&](const char* name) -> int64_t {
        auto it = r->find(name);
        return it != r->end() ? json_int_in(*it, 0).value_or(-1) : -1;
      };
      report(req.partition, req.tags, field("base"), field("ts"), Status::ok());
    }
    recycle(req.records);
  } else if (is_retriable(s.code())) {
    schedule_retry(std::move(req), s);
  } else if (s.code() == Code::kOutOfOrderSequence && (earlier_batch_waits(req) || req.renumbered)) {
    // Idempotence: an earlier batch of this partition failed and waits for its
    // resend, or was refused and this one got its numbers (close_sequence_hole):
    // it arrived too early or with old numbers, and is resent in order.
    req.renumbered = false;
    enqueue_retry(std::move(req));
  } else {
    // Only where the broker knows this producer: one that does not yet takes
    // any first sequence, so there the refused numbers leave no hole.
    if (is_idempotent() && seq_known_[static_cast<size_t>(req.partition)]) close_sequence_hole(req);
    give_up(req, s);
  }
}

void Producer::break_link(Link& link, const Status& why) {
  std::deque<InFlight> lost;
  lost.swap(link.in_flight);
  link.conn = nullptr;
  cluster_.drop(link.addr);
  // Unknown fate: the broker may or may not have written these. Retrying
  // gives at-least-once delivery.
  for (auto& req : lost) schedule_retry(std::move(req), why);
}

void Producer::give_up(InFlight& req, const Status& why) {
  stats_.failed += req.count;
  if (stats_.first_error.is_ok()) stats_.first_error = why;
  report(req.partition, req.tags, -1, -1, why);
  recycle(req.records);
}

void Producer::expire(InFlight& req, const Status& why) {
  fatal_ = Status(Code::kTimeout, "delivery timeout of " + std::to_string(options_.delivery_timeout_ms) +
                                      " ms expired: " + why.message());
  give_up(req, fatal_);
  abandon_all();
}

void Producer::abandon_all() {
  for (auto& [addr, link] : links_) {
    if (link->in_flight.empty()) continue;
    std::deque<InFlight> lost;
    lost.swap(link->in_flight);
    link->conn = nullptr;  // replies to these would no longer match anything
    cluster_.drop(addr);
    for (auto& req : lost) give_up(req, fatal_);
  }
  std::deque<InFlight> waiting;
  waiting.swap(retries_);
  for (auto& req : waiting) give_up(req, fatal_);
  for (size_t p = 0; p < batches_.size(); ++p) {
    Batch& b = batches_[p];
    stats_.failed += b.count;
    if (b.count > 0) report(static_cast<int32_t>(p), b.tags, -1, -1, fatal_);
    b.count = 0;
    b.records.clear();
    b.tags.clear();
  }
}

void Producer::schedule_retry(InFlight req, const Status& why) {
  if (!fatal_.is_ok()) {
    give_up(req, fatal_);
    return;
  }
  if (!is_retriable(why.code()) || why.message() == "interrupted") {
    give_up(req, why);
    return;
  }
  const int64_t now = clock::monotonic_ms();
  const int64_t expires = req.created_ms + options_.delivery_timeout_ms;
  if (now >= expires) {
    expire(req, why);
    return;
  }
  outage_.failed(why);
  // The last attempt is made right at the deadline, so expiry is on time.
  req.due_ms = std::min(now + backoff_ms(cluster_.options(), req.attempts), expires);
  ++req.attempts;
  enqueue_retry(std::move(req));
}

void Producer::process_retries() {
  int64_t now = clock::monotonic_ms();
  int64_t next = next_retry_due();
  if (next < 0 || next > now) return;
  // The leader may have moved: refresh before resending (errors show up again
  // on the resend, so the result is not needed here).
  auto refreshed = cluster_.topic(options_.topic, /*auto_create=*/true, /*refresh=*/true);
  (void)refreshed;
  // Take, in seq order, what is due, except behind a partition's first
  // request that is not: later batches never overtake earlier ones.
  std::deque<InFlight> due;
  std::vector<int32_t> blocked;
  for (auto it = retries_.begin(); it != retries_.end();) {
    bool is_blocked = std::find(blocked.begin(), blocked.end(), it->partition) != blocked.end();
    if (!is_blocked && it->due_ms <= now) {
      due.push_back(std::move(*it));
      it = retries_.erase(it);
    } else {
      if (!is_blocked) blocked.push_back(it->partition);
      ++it;
    }
  }
  int64_t failed_due = -1;  // set once a resend in this pass came back
  for (auto& req : due) {
    // An earlier batch of the partition came back in this pass (its resend
    // failed, or a link broke): this one waits behind it again. After any
    // resend failed, the rest wait as long as it does: one attempt per
    // backoff, not one connect per batch while a broker is down.
    bool earlier_waits = std::any_of(retries_.begin(), retries_.end(), [&](const InFlight& r) {
      return r.partition == req.partition && r.seq < req.seq;
    });
    if (earlier_waits || failed_due >= 0) {
      if (failed_due >= 0) req.due_ms = std::max(req.due_ms, failed_due);
      if (fatal_.is_ok()) {
        enqueue_retry(std::move(req));
      } else {
        give_up(req, fatal_);
      }
      continue;
    }
    const uint64_t seq = req.seq;
    transmit(std::move(req));
    for (const auto& r : retries_)
      if (r.seq == seq) failed_due = r.due_ms;
  }
}

int64_t Producer::reply_deadline(const Link& link) const {
  if (link.in_flight.empty()) return -1;
  const InFlight& oldest = link.in_flight.front();
  return std::min(oldest.sent_ms + cluster_.options().request_timeout_ms,
                  oldest.created_ms + options_.delivery_timeout_ms);
}

void Producer::break_stalled_links(int64_t now_ms) {
  // A broker that accepts requests but never answers (stopped, or a network
  // that drops packets) would otherwise hold its batches forever.
  for (auto& [addr, link] : links_) {
    const int64_t d = reply_deadline(*link);
    if (link->conn != nullptr && d >= 0 && d <= now_ms)
      break_link(*link, Status(Code::kTimeout, "no reply from " + addr + " within " +
                                                   std::to_string(now_ms - link->in_flight.front().sent_ms) +
                                                   " ms"));
  }
}

int64_t Producer::next_deadline() const {
  int64_t d = -1;
  for (const auto& b : batches_)
    if (b.count > 0) {
      int64_t t = b.first_ms + options_.linger_ms;
      if (d < 0 || t < d) d = t;
    }
  int64_t r = next_retry_due();
  if (r >= 0 && (d < 0 || r < d)) d = r;
  for (const auto& [addr, link] : links_) {
    const int64_t t = link->conn != nullptr ? reply_deadline(*link) : -1;
    if (t >= 0 && (d < 0 || t < d)) d = t;
  }
  return d;
}

int64_t Producer::next_retry_due() const {
  // Only the first waiting request of each partition can go next.
  int64_t d = -1;
  std::vector<int32_t> seen;
  for (const auto& r : retries_) {
    if (std::find(seen.begin(), seen.end(), r.partition) != seen.end()) continue;
    seen.push_back(r.partition);
    if (d < 0 || r.due_ms < d) d = r.due_ms;
  }
  return d;
}

void Producer::send_expired(int64_t now_ms) {
  for (int32_t p = 0; p < partitions_; ++p) {
    const Batch& b = batches_[static_cast<size_t>(p)];
    if (b.count > 0 && b.first_ms + options_.linger_ms <= now_ms) send_batch(p);
  }
}

void Producer::close_sequence_hole(const InFlight& gone) {
  // The broker answered `gone` with an error, so it wrote nothing and its
  // sequence numbers were never used: the partition's later batches move down
  // by its record count, or the broker would see a gap and refuse them all.
  // Those already sent with the old numbers come back OUT_OF_ORDER_SEQUENCE
  // and are resent with the new ones.
  constexpr int64_t kWrap = static_cast<int64_t>(INT32_MAX) + 1;
  auto down = [&](int32_t seq) { return static_cast<int32_t>(((seq - int64_t{gone.count}) % kWrap + kWrap) % kWrap); };
  auto shift = [&](InFlight& r) {
    if (r.partition != gone.partition || r.seq < gone.seq) return;
    r.first_seq = down(r.first_seq);
    r.renumbered = true;
  };
  for (auto& r : retries_) shift(r);
  for (auto& [addr, link] : links_)
    for (auto& r : link->in_flight) shift(r);
  int32_t& next = next_sequence_[static_cast<size_t>(gone.partition)];
  next = down(next);
  if (options_.on_released && !gone.tags.empty()) options_.on_released(gone.tags);
}

bool Producer::earlier_batch_waits(const InFlight& req) const {
  return std::any_of(retries_.begin(), retries_.end(),
                     [&](const InFlight& r) { return r.partition == req.partition && r.seq < req.seq; });
}

bool Producer::partition_waits(int32_t partition) const {
  return std::any_of(retries_.begin(), retries_.end(),
                     [&](const InFlight& r) { return r.partition == partition; });
}

bool Producer::is_blocked() const {
  if (retries_.empty()) return false;
  if (options_.partition) return partition_waits(*options_.partition);
  for (int32_t p = 0; p < partitions_; ++p)
    if (!partition_waits(p)) return false;
  return true;
}

bool Producer::has_pending() const {
  if (!retries_.empty()) return true;
  for (const auto& [addr, link] : links_)
    if (!link->in_flight.empty()) return true;
  return false;
}

Result<bool> Producer::service(int timeout_ms, int extra_fd) {
  process_retries();
  send_expired(clock::monotonic_ms());

  std::vector<pollfd> fds;
  std::vector<Link*> polled;
  if (extra_fd >= 0) fds.push_back(pollfd{extra_fd, POLLIN, 0});
  bool decrypted_waiting = false;  // TLS bytes poll() cannot see: do not sleep on them
  for (auto& [addr, link] : links_)
    if (link->conn != nullptr && !link->in_flight.empty()) {
      fds.push_back(pollfd{link->conn->fd(), POLLIN, 0});
      polled.push_back(link.get());
      decrypted_waiting = decrypted_waiting || link->conn->has_pending_input();
    }
  int64_t wait = decrypted_waiting ? 0 : timeout_ms;
  int64_t deadline = next_deadline();
  if (deadline >= 0) {
    int64_t left = std::max<int64_t>(0, deadline - clock::monotonic_ms());
    wait = wait < 0 ? left : std::min<int64_t>(wait, left);
  }
  if (fds.empty() && wait < 0) return false;  // nothing could ever wake us
  int r = ::poll(fds.data(), fds.size(), static_cast<int>(wait));
  if (r < 0) {
    if (errno == EINTR) return false;
    return errno_status("poll", "", errno);
  }
  bool extra_ready = false;
  size_t first_link = 0;
  if (extra_fd >= 0) {
    extra_ready = (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
    first_link = 1;
  }
  for (size_t i = first_link; i < fds.size(); ++i) {
    Link& link = *polled[i - first_link];
    if (link.conn == nullptr) continue;
    if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0 && !link.conn->has_pending_input()) continue;
    Status s = link.conn->read_available();
    if (!s.is_ok()) {
      break_link(link, s);
      continue;
    }
    drain_lines(link);
  }
  break_stalled_links(clock::monotonic_ms());
  process_retries();
  send_expired(clock::monotonic_ms());
  return extra_ready;
}

Status Producer::flush() {
  for (int32_t p = 0; p < partitions_; ++p) send_batch(p);
  // A stop request (SIGINT) does not cut this short: acks already on their way
  // are worth waiting for, and a second SIGINT exits at once.
  while (has_pending()) KREEK_RETURN_IF_ERROR(service(1000, -1).status());
  return Status::ok();
}

}  // namespace kreek::client
