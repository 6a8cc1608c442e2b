// A follower's copy loop from one leader; see replica_fetcher.h.
#include "broker/replica_fetcher.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "base/clock.h"
#include "base/json_value.h"
#include "base/log.h"
#include "broker/broker_context.h"
#include "broker/coordinator_link.h"
#include "broker/flush_scheduler.h"
#include "broker/link_auth.h"
#include "broker/replica_manager.h"
#include "repl/truncation.h"
#include "storage/partition_log.h"

namespace kreek::broker {
namespace {

using json = nlohmann::json;

constexpr int64_t kTimerMs = 50;           // retries and reconnects are checked this often
constexpr int64_t kFetchWaitMs = 500;      // the leader parks an empty fetch this long
constexpr int64_t kFetchMaxBytes = 8 << 20;
constexpr int64_t kCallTimeoutMs = 15000;  // a leader that answers nothing this long is gone
constexpr int64_t kRetryMs = 1000;         // after an error that newer metadata should fix
constexpr int64_t kEpochRetryMs = 50;      // the leader has not applied our epoch yet

std::string where(const ReplicaFetcher::Key& k) { return k.first + "/" + std::to_string(k.second); }

// The topic and partition a part of a leader's answer is about; nothing if it
// names none (or a partition number out of range, which must not wrap onto
// another partition).
std::optional<ReplicaFetcher::Key> part_key(const json& p) {
  if (!p.is_object() || !p.contains("topic") || !p["topic"].is_string()) return std::nullopt;
  std::optional<int64_t> partition = json_member_int(p, "partition", 0, std::numeric_limits<int32_t>::max());
  if (!partition) return std::nullopt;
  return ReplicaFetcher::Key{p["topic"].get<std::string>(), static_cast<int32_t>(*partition)};
}

}  // namespace

std::optional<storage::EpochEnd> decode_epoch_end(const nlohmann::json& part) {
  std::optional<int64_t> epoch = json_member_int(part, "epoch", -1, std::numeric_limits<int32_t>::max());
  std::optional<int64_t> end = json_member_int(part, "end_offset", -1);
  if (!epoch || !end) return std::nullopt;
  return storage::EpochEnd{LeaderEpoch(static_cast<int32_t>(*epoch)), Offset(*end)};
}

ReplicaFetcher::ReplicaFetcher(BrokerContext& ctx, NodeId leader, std::string address)
    : ctx_(ctx), leader_(leader), address_(std::move(address)) {
  timer_ = ctx_.loop->make_timer();
  timer_->start(kTimerMs, kTimerMs, [this] {
    int64_t now = clock::monotonic_ms();
    for (auto& [key, part] : parts_)
      if (part.phase == Phase::kWait && part.retry_at_ms <= now) part.phase = part.retry_phase;
    if (!rpc_ && now >= reconnect_at_ms_) connect();
    pump();
  });
  connect();
}

ReplicaFetcher::~ReplicaFetcher() {
  *alive_ = false;
  stop();
}

void ReplicaFetcher::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (timer_) timer_->stop();
  rpc_.reset();
}

void ReplicaFetcher::connect() {
  if (stopped_) return;
  net::RpcOptions options;
  options.call_timeout_ms = kCallTimeoutMs;
  options.link.tls = ctx_.config.tls_client;  // --tls-ca: the leader listens with TLS
  rpc_ = std::make_unique<net::RpcClient>(*ctx_.loop, address_, options,
                                          [this, alive = alive_](Status why) {
                                            if (*alive) on_closed(why);
                                          });
  send_auth_hello(*rpc_, ctx_.config.auth_token, [this](Status why) {
    if (refused_logged_ms_ + 10'000 <= clock::monotonic_ms()) {
      refused_logged_ms_ = clock::monotonic_ms();
      log::error(why.message());
    }
  });
  in_flight_ = false;
  pump();
}

void ReplicaFetcher::on_closed(Status why) {
  rpc_.reset();
  in_flight_ = false;
  answer_.clear();
  bytes_.clear();
  if (stopped_) return;
  // Back off 100 ms, doubling to 2 s, while the leader cannot be reached.
  int64_t delay = std::min<int64_t>(100LL << std::min(failures_, 5), 2000);
  if (failures_++ == 0 && !why.is_ok())
    log::warn("replica fetch from node " + std::to_string(leader_.value()) + " at " + address_ + ": " +
              why.message() + "; reconnecting");
  reconnect_at_ms_ = clock::monotonic_ms() + delay;
}

void ReplicaFetcher::set_address(const std::string& address) {
  if (address == address_) return;
  address_ = address;
  rpc_.reset();
  failures_ = 0;
  reconnect_at_ms_ = 0;
  connect();
}

void ReplicaFetcher::assign(const std::vector<std::pair<Key, LeaderEpoch>>& parts) {
  std::map<Key, Part> next;
  for (const auto& [key, epoch] : parts) {
    auto it = parts_.find(key);
    if (it != parts_.end() && it->second.epoch == epoch) {
      next.emplace(key, it->second);
    } else {
      Part p;
      p.epoch = epoch;
      next.emplace(key, p);
    }
  }
  parts_ = std::move(next);
  pump();
}

void ReplicaFetcher::forget_topic(const std::string& topic) {
  for (auto it = parts_.begin(); it != parts_.end();) it = it->first.first == topic ? parts_.erase(it) : std::next(it);
}

void ReplicaFetcher::retry_later(const Key& key, Phase next, int64_t delay_ms) {
  auto it = parts_.find(key);
  if (it == parts_.end()) return;
  it->second.phase = Phase::kWait;
  it->second.retry_phase = next;
  it->second.retry_at_ms = clock::monotonic_ms() + delay_ms;
}

void ReplicaFetcher::pump() {
  if (stopped_ || !rpc_ || in_flight_) return;
  std::vector<Key> truncate;
  bool fetch = false;
  for (auto& [key, part] : parts_) {
    if (part.phase == Phase::kTruncate) {
      storage::PartitionLog* log = ctx_.logs.log(key.first, PartitionId(key.second));
      if (log == nullptr) continue;
      // An empty history has nothing to disagree about: fetch from the log end.
      if (log->latest_epoch().value() < 0) {
        part.phase = Phase::kFetch;
      } else {
        truncate.push_back(key);
        continue;
      }
    }
    if (part.phase == Phase::kFetch) fetch = true;
  }
  if (!truncate.empty()) return send_offsets_for_epoch(truncate);
  if (fetch) send_fetch();
}

void ReplicaFetcher::send_offsets_for_epoch(const std::vector<Key>& keys) {
  json parts = json::array();
  for (const Key& key : keys) {
    storage::PartitionLog* log = ctx_.logs.log(key.first, PartitionId(key.second));
    parts.push_back({{"topic", key.first},
                     {"partition", key.second},
                     {"leader_epoch", parts_[key].epoch.value()},
                     {"epoch", log->latest_epoch().value()}});
  }
  json req = {{"op", "offsets_for_epoch"}, {"replica", ctx_.partitions.self().value()}, {"parts", parts}};
  Status s = rpc_->call(req.dump(), [this, alive = alive_](Result<std::string_view> r) {
    if (!*alive) return;
    in_flight_ = false;
    if (r.is_ok()) {
      failures_ = 0;
      on_epochs(std::string(*r));
    }
    pump();
  });
  if (s.is_ok()) in_flight_ = true;
}

void ReplicaFetcher::on_epochs(const std::string& line) {
  json answer = json::parse(line, nullptr, false);
  if (answer.is_discarded() || !json_flag(answer, "ok") || !answer["parts"].is_array()) {
    log::warn("offsets_for_epoch from node " + std::to_string(leader_.value()) + ": unexpected answer " +
              line.substr(0, 200));
    for (auto& [key, part] : parts_)
      if (part.phase == Phase::kTruncate) retry_later(key, Phase::kTruncate, kRetryMs);
    return;
  }
  for (const json& p : answer["parts"]) {
    std::optional<Key> key_of_part = part_key(p);
    if (!key_of_part) continue;
    const Key& key = *key_of_part;
    auto it = parts_.find(key);
    if (it == parts_.end() || it->second.phase != Phase::kTruncate) continue;
    if (p.contains("error")) {
      std::string code = json_string_or(p["error"], "code");
      retry_later(key, Phase::kTruncate, code == "UNKNOWN_LEADER_EPOCH" ? kEpochRetryMs : kRetryMs);
      continue;
    }
    storage::PartitionLog* log = ctx_.logs.log(key.first, PartitionId(key.second));
    if (log == nullptr) continue;
    std::optional<storage::EpochEnd> decoded = decode_epoch_end(p);
    if (!decoded) {
      // Read as "no common epoch", a part without its numbers would throw
      // the replica's whole log away: ask again instead.
      log::warn("offsets_for_epoch from node " + std::to_string(leader_.value()) + ": malformed part for " +
                where(key) + ": " + p.dump().substr(0, 200));
      retry_later(key, Phase::kTruncate, kRetryMs);
      continue;
    }
    storage::EpochEnd leader_end = *decoded;
    Offset leo = log->log_end();
    repl::TruncationStep step = repl::truncation_step(
        leader_end, leo, [log](LeaderEpoch e) { return log->end_offset_for_epoch(e); });
    const std::optional<Offset>& to = step.offset;
    Status s;
    if (!to) {
      log::warn("replica " + where(key) + " shares no leader epoch with node " + std::to_string(leader_.value()) +
                ": dropping its " + std::to_string(leo - log->log_start()) + " records");
      s = log->reset_to(log->log_start());
    } else if (*to < leo) {
      log::info("replica " + where(key) + " truncated from " + std::to_string(leo.value()) + " to " +
                std::to_string(to->value()) + " (leader epoch " + std::to_string(leader_end.epoch.value()) +
                " ends there on node " + std::to_string(leader_.value()) + ")");
      s = log->truncate_to(*to);
    }
    if (!s.is_ok()) {
      log::error("truncate replica " + where(key) + ": " + s.message());
      retry_later(key, Phase::kTruncate, kRetryMs);
      continue;
    }
    // A cut into an epoch this replica never had is a first step: ask again
    // about its (new) latest epoch before fetching.
    if (step.complete || log->latest_epoch().value() < 0) it->second.phase = Phase::kFetch;
  }
}

void ReplicaFetcher::send_fetch() {
  json parts = json::array();
  for (const auto& [key, part] : parts_) {
    if (part.phase != Phase::kFetch) continue;
    storage::PartitionLog* log = ctx_.logs.log(key.first, PartitionId(key.second));
    if (log == nullptr) continue;
    parts.push_back({{"topic", key.first},
                     {"partition", key.second},
                     {"offset", log->log_end().value()},
                     {"leader_epoch", part.epoch.value()}});
  }
  if (parts.empty()) return;
  json req = {{"op", "fetch"},
              {"replica", ctx_.partitions.self().value()},
              {"broker_epoch", ctx_.coordinator != nullptr ? ctx_.coordinator->broker_epoch() : int64_t{-1}},
              {"max_wait_ms", kFetchWaitMs},
              {"max_bytes", kFetchMaxBytes},
              {"parts", parts}};
  net::RpcClient::RawCall call;
  call.on_header = [this, alive = alive_](Result<std::string_view> header) -> int64_t {
    if (!*alive) return 0;
    if (!header.is_ok()) {
      in_flight_ = false;
      return 0;
    }
    failures_ = 0;
    int64_t total = on_fetch_header(std::string(*header));
    if (total == 0) {
      on_fetch_done();
      in_flight_ = false;
      pump();
    }
    return total;
  };
  call.on_raw = [this, alive = alive_](Result<std::string_view> chunk, bool last) {
    if (!*alive) return;
    if (!chunk.is_ok()) {
      answer_.clear();
      bytes_.clear();
      in_flight_ = false;
      return;
    }
    bytes_.append(chunk->data(), chunk->size());
    if (!last) return;
    on_fetch_done();
    in_flight_ = false;
    pump();
  };
  if (rpc_->call_raw(req.dump(), std::move(call)).is_ok()) in_flight_ = true;
}

int64_t ReplicaFetcher::on_fetch_header(const std::string& line) {
  answer_.clear();
  bytes_.clear();
  json answer = json::parse(line, nullptr, false);
  if (answer.is_discarded() || !answer.is_object()) return -1;
  if (!json_flag(answer, "ok")) {
    // The whole request was refused (the leader is starting, say): try again shortly.
    for (auto& [key, part] : parts_)
      if (part.phase == Phase::kFetch) retry_later(key, Phase::kFetch, kRetryMs);
    return 0;
  }
  if (!answer.contains("parts") || !answer["parts"].is_array()) return -1;
  int64_t total = 0;
  for (const json& p : answer["parts"]) {
    std::optional<Key> key = part_key(p);
    std::optional<int64_t> bytes = json_member_int(p, "bytes", 0, kFetchMaxBytes * 2);
    if (!key || !bytes) return -1;
    total += *bytes;
    answer_.push_back(PartAnswer{*key, *bytes, p});
  }
  bytes_.reserve(static_cast<size_t>(total));
  return total;
}

void ReplicaFetcher::on_fetch_done() {
  size_t pos = 0;
  for (const PartAnswer& a : answer_) {
    std::string_view bytes(bytes_.data() + pos, static_cast<size_t>(a.bytes));
    pos += static_cast<size_t>(a.bytes);
    apply_part(a, bytes);
  }
  answer_.clear();
  bytes_.clear();
}

void ReplicaFetcher::apply_part(const PartAnswer& a, std::string_view bytes) {
  auto it = parts_.find(a.key);
  if (it == parts_.end() || it->second.phase != Phase::kFetch) return;
  PartitionId pid(a.key.second);
  storage::PartitionLog* log = ctx_.logs.log(a.key.first, pid);
  if (log == nullptr) return;
  if (a.header.contains("error")) {
    const json& e = a.header["error"];
    std::string code = json_string_or(e, "code");
    if (code == "OFFSET_OUT_OF_RANGE") {
      int64_t start = json_member_int(e, "log_start", 0).value_or(-1);
      if (start >= 0 && log->log_end().value() < start) {
        // Retention removed what this replica lacks: start over at the leader's log start.
        log::warn("replica " + where(a.key) + " is behind node " + std::to_string(leader_.value()) +
                  "'s log start " + std::to_string(start) + ": restarting its log there");
        if (Status s = log->reset_to(Offset(start)); !s.is_ok()) {
          log::error("reset replica " + where(a.key) + ": " + s.message());
          retry_later(a.key, Phase::kTruncate, kRetryMs);
        }
        return;
      }
      it->second.phase = Phase::kTruncate;
      return;
    }
    retry_later(a.key, code == "UNKNOWN_LEADER_EPOCH" ? Phase::kFetch : Phase::kTruncate,
                code == "UNKNOWN_LEADER_EPOCH" ? kEpochRetryMs : kRetryMs);
    return;
  }
  if (!bytes.empty()) {
    auto appended = log->append_replicated(bytes);
    if (!appended.is_ok()) {
      log::error("replica " + where(a.key) + " from node " + std::to_string(leader_.value()) + ": " +
                 appended.status().message());
      retry_later(a.key, Phase::kTruncate, kRetryMs);
      return;
    }
    if (log->has_unsynced_closed()) ctx_.flusher->flush_closed(a.key.first, pid);
    if (log->config().flush_always()) ctx_.flusher->flush_partition(a.key.first, pid);
  }
  // A follower's high watermark: the leader's, as far as this replica has it.
  Offset hw(std::min(json_member_int(a.header, "hw", 0).value_or(0), log->log_end().value()));
  if (hw > log->high_watermark()) {
    log->set_high_watermark(hw);
    ctx_.replicas->note_high_watermark_moved();
  }
}

}  // namespace kreek::broker
