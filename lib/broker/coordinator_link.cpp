// The broker's link to the coordinator; see coordinator_link.h.
#include "broker/coordinator_link.h"

#include <algorithm>
#include <optional>

#include "base/clock.h"
#include "base/json_value.h"
#include "base/log.h"
#include "broker/link_auth.h"
#include "coord/metadata_records.h"

namespace kreek::broker {
namespace {

using proto::Json;

constexpr int64_t kMaxBackoffMs = 1000;
constexpr int64_t kCallTimeoutMs = 10'000;
constexpr int64_t kMaxHeartbeatMs = 600'000;  // kzk-lite's own bound on --heartbeat-interval-ms

int64_t backoff_ms(int attempt) { return std::min<int64_t>(kMaxBackoffMs, int64_t{50} << std::min(attempt, 5)); }

// The answer's fields, or its error as a Status.
Result<Json> parse_answer(Result<std::string_view> line) {
  if (!line.is_ok()) return line.status();
  KREEK_ASSIGN_OR_RETURN(Json j, proto::parse_response(*line));
  KREEK_RETURN_IF_ERROR(proto::response_status(j));
  return j;
}

}  // namespace

CoordinatorLink::CoordinatorLink(net::EventLoop& loop, CoordinatorLinkConfig config, Events events)
    : loop_(loop), config_(std::move(config)), events_(std::move(events)) {}

CoordinatorLink::~CoordinatorLink() {
  *alive_ = false;
  stop();
}

void CoordinatorLink::start() {
  heartbeat_timer_ = loop_.make_timer();
  reconnect_timer_ = loop_.make_timer();
  poll_retry_timer_ = loop_.make_timer();
  connect();
  poll();
}

void CoordinatorLink::stop() {
  stopped_ = true;
  if (heartbeat_timer_) heartbeat_timer_->stop();
  if (reconnect_timer_) reconnect_timer_->stop();
  if (poll_retry_timer_) poll_retry_timer_->stop();
  control_.reset();
  poller_.reset();
  applied_waiters_.clear();
}

void CoordinatorLink::connect() {
  if (stopped_) return;
  net::RpcOptions options;
  options.call_timeout_ms = kCallTimeoutMs;
  options.link.connect_timeout_ms = 2000;
  options.link.tls = config_.tls;
  control_ = std::make_unique<net::RpcClient>(loop_, current(), options,
                                              [this](Status why) { on_control_closed(why); });
  send_auth_hello(*control_, config_.auth_token, [this](Status why) {
    // A wrong token does not get better by retrying: the broker stops.
    if (events_.on_refused) events_.on_refused(why);
  });
  if (!is_registered()) do_register();
}

void CoordinatorLink::on_control_closed(Status why) {
  if (stopped_) return;
  // A failed TLS handshake (a certificate that does not verify, a plain-text
  // coordinator) is a setup mistake, not an outage: say so every 10 s even
  // while retrying, since nothing else will.
  static int64_t tls_warned_ms = -10'000;  // one broker has one coordinator link
  bool tls_failed = why.message().rfind("tls handshake with ", 0) == 0;
  if (reachable_ || attempts_ == 0 || (tls_failed && clock::monotonic_ms() - tls_warned_ms >= 10'000)) {
    if (tls_failed) tls_warned_ms = clock::monotonic_ms();
    log::warn("coordinator " + current() + " unreachable: " + why.message() + "; retrying");
  }
  reachable_ = false;
  registering_ = false;
  heartbeat_in_flight_ = false;
  // The metadata poll shares the fate of the control link: a long poll into
  // a silent network would otherwise only notice after its own, much longer
  // timeout, and a leader cut off and replaced would learn it that late.
  if (poller_) {
    poller_.reset();
    poll_retry_timer_->start(backoff_ms(attempts_), 0, [this] { poll(); });
  }
  schedule_reconnect();
}

void CoordinatorLink::schedule_reconnect() {
  ++index_;  // the next coordinator of the list, if there are several
  reconnect_timer_->start(backoff_ms(attempts_++), 0, [this] { connect(); });
}

void CoordinatorLink::do_register() {
  if (registering_ || !control_ || !control_->is_open()) return;
  registering_ = true;
  Json req = {{"op", "register_broker"},       {"node", config_.node.value()},
              {"incarnation", config_.incarnation}, {"data_dir_id", config_.data_dir_id},
              {"addr", config_.addr},          {"rack", config_.rack}};
  Status s = control_->call(req.dump(), [this](Result<std::string_view> line) {
    registering_ = false;
    auto answer = parse_answer(line);
    if (!answer.is_ok()) {
      if (answer.status().code() == Code::kDuplicateBroker) {
        if (events_.on_refused) events_.on_refused(answer.status());
        return;
      }
      if (answer.status().code() != Code::kUnavailable && answer.status().code() != Code::kTimeout)
        log::warn("register with coordinator " + current() + ": " + answer.status().to_string());
      reconnect_timer_->start(backoff_ms(attempts_++), 0, [this] { do_register(); });
      return;
    }
    std::optional<int64_t> epoch = json_member_int(*answer, "broker_epoch", 0);
    if (!epoch) {
      log::warn("register with coordinator " + current() + ": answer without a broker epoch: " +
                answer->dump().substr(0, 200));
      reconnect_timer_->start(backoff_ms(attempts_++), 0, [this] { do_register(); });
      return;
    }
    bool first = broker_epoch_ < 0 && !reachable_;
    broker_epoch_ = *epoch;
    // Bounded both ways: the broker heartbeats at this rate and waits 4x it.
    heartbeat_interval_ms_ =
        std::clamp<int64_t>(json_member_int(*answer, "heartbeat_interval_ms").value_or(500), 10, kMaxHeartbeatMs);
    reachable_ = true;
    attempts_ = 0;
    log::info("registered with coordinator " + current() + " as node " +
              std::to_string(config_.node.value()) + ", broker epoch " + std::to_string(broker_epoch_));
    heartbeat_timer_->start(0, heartbeat_interval_ms_, [this] { heartbeat(); });
    if (first && events_.on_registered) events_.on_registered(json_string_or(*answer, "cluster_id"));
  });
  if (!s.is_ok()) registering_ = false;
}

void CoordinatorLink::heartbeat() {
  if (heartbeat_in_flight_ || !control_ || !control_->is_open() || !is_registered()) return;
  heartbeat_in_flight_ = true;
  Json req = {{"op", "heartbeat"},
              {"node", config_.node.value()},
              {"broker_epoch", broker_epoch_},
              {"applied_offset", image_.next_offset() - 1},
              {"want_shutdown", want_shutdown_}};
  // A heartbeat unanswered for this long means the session is as good as
  // gone: the link is closed and reconnected (with the metadata poll).
  const int64_t timeout_ms = std::max<int64_t>(1000, 4 * heartbeat_interval_ms_);
  Status s = control_->call(req.dump(), [this](Result<std::string_view> line) {
    heartbeat_in_flight_ = false;
    auto answer = parse_answer(line);
    if (!answer.is_ok()) {
      if (answer.status().code() == Code::kFencedEpoch) {
        // The coordinator replaced or forgot this registration: start again.
        log::warn("coordinator: " + answer.status().message());
        broker_epoch_ = -1;
        heartbeat_timer_->stop();
        do_register();
      }
      return;
    }
    if (!reachable_) log::info("coordinator " + current() + " reachable again");
    reachable_ = true;
    attempts_ = 0;
    if (want_shutdown_ && json_flag(*answer, "shutdown_ready") && events_.on_shutdown_ready) {
      want_shutdown_ = false;
      heartbeat_timer_->stop();
      events_.on_shutdown_ready();
    }
  }, timeout_ms);
  if (!s.is_ok()) heartbeat_in_flight_ = false;
}

void CoordinatorLink::begin_shutdown() {
  want_shutdown_ = true;
  // Ask often: each answer may be the one that lets the broker go.
  if (heartbeat_timer_ && is_registered()) heartbeat_timer_->start(0, 50, [this] { heartbeat(); });
}

void CoordinatorLink::call(Json request, std::function<void(Result<Json>)> done) {
  if (!control_ || !control_->is_open() || !is_registered()) {
    return done(Status(Code::kUnavailable, "the coordinator " + current() + " cannot be reached now"));
  }
  std::weak_ptr<bool> alive = alive_;
  Status s = control_->call(request.dump(), [this, alive, done](Result<std::string_view> line) {
    // The link failing under the call (the coordinator died just before) is
    // said like a link found down, not as the socket's own words.
    if (!line.is_ok() && line.status().code() != Code::kTimeout)
      return done(Status(Code::kUnavailable, "the coordinator " + current() + " cannot be reached now (" +
                                                 line.status().message() + ")"));
    auto answer = parse_answer(line);
    if (!answer.is_ok()) {
      Status st = answer.status();
      if (st.code() == Code::kTimeout)
        st = Status(Code::kUnavailable, "the coordinator " + current() + " did not answer in time");
      return done(st);
    }
    int64_t offset = json_member_int(*answer, "offset", -1).value_or(-1);
    // Answer once this broker's own image has the change, so a client that
    // created a topic here can use it here at once.
    when_applied(offset, [done, a = std::move(*answer)]() mutable { done(std::move(a)); });
  });
  if (!s.is_ok()) done(Status(Code::kUnavailable, "the coordinator " + current() + " cannot be reached now"));
}

void CoordinatorLink::when_applied(int64_t offset, std::function<void()> cb) {
  if (offset < image_.next_offset()) return cb();
  applied_waiters_.emplace(offset, std::move(cb));
}

void CoordinatorLink::run_applied_waiters() {
  while (!applied_waiters_.empty() && applied_waiters_.begin()->first < image_.next_offset()) {
    auto cb = std::move(applied_waiters_.begin()->second);
    applied_waiters_.erase(applied_waiters_.begin());
    cb();
  }
}

void CoordinatorLink::poll() {
  if (stopped_) return;
  if (!poller_ || !poller_->is_open()) {
    net::RpcOptions options;
    options.call_timeout_ms = config_.poll_wait_ms + kCallTimeoutMs;
    options.link.connect_timeout_ms = 2000;
    options.link.tls = config_.tls;
    poller_ = std::make_unique<net::RpcClient>(loop_, current(), options);
    send_auth_hello(*poller_, config_.auth_token, {});  // the control link reports a refusal
  }
  Json req = {{"op", "metadata_fetch"}, {"from", image_.next_offset()}, {"max_wait_ms", config_.poll_wait_ms}};
  Status s = poller_->call(req.dump(), [this](Result<std::string_view> line) { on_poll_answer(line); });
  if (!s.is_ok()) on_poll_answer(s);
}

void CoordinatorLink::on_poll_answer(Result<std::string_view> line) {
  // Parsed once, into the JSON type the metadata decoders take; only a failed
  // answer goes through parse_answer for its Status.
  Status s;
  nlohmann::json answer = line.is_ok() ? nlohmann::json::parse(*line, nullptr, false) : nlohmann::json();
  if (line.is_ok() && json_flag(answer, "ok")) {
    s = apply_poll(answer);
  } else {
    s = parse_answer(line).status();
    if (s.is_ok()) s = Status(Code::kProtocol, "metadata_fetch answer is not a JSON object");
  }
  if (s.is_ok()) {
    poll();
    return;
  }
  if (s.code() == Code::kOffsetOutOfRange || s.code() == Code::kCorrupt) {
    // The coordinator's log is not the one this image came from (or a record
    // did not fit): start over from its beginning.
    log::warn("metadata: " + s.message() + "; reloading the cluster metadata");
    image_ = coord::MetadataImage();
  }
  poller_.reset();
  poll_retry_timer_->start(backoff_ms(attempts_), 0, [this] { poll(); });
}

Status CoordinatorLink::apply_poll(const nlohmann::json& answer) {
  int64_t before = image_.next_offset();
  if (auto snap = answer.find("snapshot"); snap != answer.end()) {
    KREEK_ASSIGN_OR_RETURN(image_, coord::MetadataImage::from_json(*snap));
  }
  auto records = answer.find("records");
  if (records == answer.end() || !records->is_array())
    return Status(Code::kProtocol, "metadata_fetch answer without records");
  for (const nlohmann::json& r : *records) {
    std::optional<int64_t> offset = json_member_int(r, "offset", 0);
    if (!offset || !r.contains("record"))
      return Status(Code::kProtocol, "metadata_fetch answer with a malformed record");
    if (*offset < image_.next_offset()) continue;
    KREEK_ASSIGN_OR_RETURN(coord::Record rec, coord::record_from_json(r["record"]));
    KREEK_RETURN_IF_ERROR(image_.apply(*offset, rec));
  }
  if (image_.next_offset() != before && events_.on_metadata) events_.on_metadata(image_);
  run_applied_waiters();
  // Still fenced but now caught up with its own registration or fence: say so
  // at once rather than at the next heartbeat, so a start or return takes
  // milliseconds, not a heartbeat interval.
  const coord::BrokerInfo* self = image_.broker(config_.node);
  if (self != nullptr && self->broker_epoch == broker_epoch_ && self->state == coord::BrokerState::kFenced &&
      image_.next_offset() != before)
    heartbeat();
  return Status::ok();
}

}  // namespace kreek::broker
