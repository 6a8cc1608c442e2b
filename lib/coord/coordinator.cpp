// The coordinator's machinery: the group-committed write path, sessions,
// elections, parked metadata polls and the process's life (run). The ops
// themselves are in coordinator_ops.cpp.
#include "coord/coordinator.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "base/base.h"
#include "coord/coordinator_internal.h"
#include "coord/tls_flags.h"
#include "net/service_notify.h"

namespace kreek::coord {

// Records kept in memory for followers; one further behind gets a snapshot.
constexpr size_t kRecentRecords = 4096;

Coordinator::Coordinator(const CoordinatorConfig& config, net::EventLoop& loop)
    : config_(config),
      loop_(loop),
      controller_(ControllerConfig{config.unclean_leader_election}),
      sessions_(config.session_timeout_ms) {}

Coordinator::~Coordinator() = default;

Result<std::unique_ptr<Coordinator>> Coordinator::open(const CoordinatorConfig& config,
                                                       net::EventLoop& loop) {
  std::unique_ptr<Coordinator> c(new Coordinator(config, loop));
  KREEK_ASSIGN_OR_RETURN(c->log_, MetadataLog::open(config.data_dir, [](std::string_view m) { log::info(m); }));
  c->pending_ = c->log_->image();
  c->committed_ = c->log_->image();
  for (const OffsetRecord& r : c->log_->tail()) c->recent_.emplace_back(r.offset, to_json(r.record).dump());
  while (c->recent_.size() > kRecentRecords) c->recent_.pop_front();
  // Every broker the log knows as running gets a whole session from now: the
  // coordinator was down, not the brokers.
  int64_t now = clock::monotonic_ms();
  for (const auto& [id, b] : c->committed_.brokers())
    if (b.state != BrokerState::kFenced) c->sessions_.touch(b.node, b.broker_epoch, now);
  log::info("metadata log at offset " + std::to_string(c->committed_.next_offset()) + ": " +
            std::to_string(c->committed_.brokers().size()) + " broker(s), " +
            std::to_string(c->committed_.topics().size()) + " topic(s)");
  return c;
}

Status Coordinator::start() {
  net::ServerOptions options;
  options.max_line_bytes = config_.max_request_bytes;
  net::ConnectionHandler handler;
  gate_ = proto::AuthGate(config_.auth_token);
  handler.on_line = [this](net::Connection& conn, std::string_view line, net::ResponseSlot slot) {
    std::string refusal, why;
    if (!gate_.admit(conn.id(), line, refusal, why)) {
      int64_t now = clock::monotonic_ms();
      if (now - refused_logged_ms_ >= 1000) {
        refused_logged_ms_ = now;
        log::warn("refused connection from " + conn.peer() + ": " + why);
      }
      slot.complete(std::move(refusal));
      return conn.close();
    }
    handle(line, conn.peer(), [slot](std::string out) mutable { slot.complete(std::move(out)); });
  };
  handler.on_close = [this](net::Connection& conn) { gate_.forget(conn.id()); };
  handler.on_oversize = [this](net::Connection& conn, int64_t, net::ResponseSlot slot) {
    if (!gate_.is_admitted(conn.id())) {
      slot.complete(gate_.refusal_line("null", "authentication required: the first request must be a hello with the auth token"));
      return conn.close();
    }
    slot.complete(proto::error_line("null", Status(Code::kMessageTooLarge,
                                                   "request line exceeds " +
                                                       std::to_string(config_.max_request_bytes) + " bytes")));
  };
  options.tls = config_.tls;
  options.plaintext_reply = tls_required_line();
  KREEK_ASSIGN_OR_RETURN(server_, loop_.listen(config_.listen, options, std::move(handler)));
  if (pending_.cluster_id().empty()) {
    // A new cluster: its id is the log's first record.
    std::string id = random_id();
    log::info("new cluster " + id);
    propose(controller_.init_cluster(pending_, id), [](Status, int64_t) {});
  }
  int64_t tick = std::max<int64_t>(10, std::min(config_.heartbeat_interval_ms, config_.session_timeout_ms / 4));
  session_check_ms_ = tick;
  last_session_check_ms_ = clock::monotonic_ms();
  session_timer_ = loop_.make_timer();
  session_timer_->start(tick, tick, [this] { expire_sessions(); });
  election_timer_ = loop_.make_timer();
  election_timer_->start(config_.election_interval_ms, config_.election_interval_ms, [this] { elect(); });
  return Status::ok();
}

std::string Coordinator::address() const { return server_ ? server_->address() : std::string(); }

void Coordinator::stop(std::function<void()> done) {
  stopping_ = true;
  if (server_) server_->stop_accepting();
  if (session_timer_) session_timer_->stop();
  if (election_timer_) election_timer_->stop();
  for (auto& w : waiters_) w->finish(*this);
  waiters_.clear();
  if (!writing_) return done();
  on_idle_ = std::move(done);
}

void Coordinator::propose(std::vector<Record> records, std::function<void(Status, int64_t)> done) {
  if (!broken_.is_ok()) return done(broken_, -1);
  for (Record& r : records) {
    Status s = pending_.apply(pending_.next_offset(), r);
    // Invariant: the controller decides only records that fit the image.
    KREEK_CHECK(s.is_ok());
    queued_.push_back(std::move(r));
  }
  queued_callbacks_.push_back(Waiting{pending_.next_offset() - 1, std::move(done)});
  write_next();
}

void Coordinator::write_next() {
  if (writing_) return;
  if (queued_.empty()) {
    // Only answers that changed nothing: they wait for nothing but what was
    // queued before them, which is durable now.
    auto callbacks = std::move(queued_callbacks_);
    queued_callbacks_.clear();
    for (auto& cb : callbacks) cb.done(broken_, cb.last_offset);
    if (on_idle_) std::exchange(on_idle_, nullptr)();
    return;
  }
  writing_ = true;
  auto records = std::make_shared<std::vector<Record>>(std::move(queued_));
  auto callbacks = std::make_shared<std::vector<Waiting>>(std::move(queued_callbacks_));
  queued_.clear();
  queued_callbacks_.clear();
  int64_t first = log_->next_offset();
  auto status = std::make_shared<Status>();
  bool snapshot_due = first + static_cast<int64_t>(records->size()) - log_->snapshot_offset() >=
                      config_.snapshot_every;
  auto snapshot = snapshot_due ? std::make_shared<MetadataImage>(pending_) : nullptr;
  MetadataLog* log = log_.get();
  loop_.queue_work(
      [log, records, first, status, snapshot] {
        *status = log->append(first, *records);
        // pending_ equals the log's end here only if nothing was queued
        // meanwhile, which write_next's single writer guarantees.
        if (status->is_ok() && snapshot && snapshot->next_offset() == log->next_offset()) {
          Status s = log->write_snapshot(*snapshot);
          if (!s.is_ok()) log::warn("metadata snapshot: " + s.message());
        }
      },
      [this, records, first, callbacks, status] {
        on_written(std::move(*records), first, std::move(*callbacks), *status);
      });
}

void Coordinator::on_written(std::vector<Record> records, int64_t first, std::vector<Waiting> callbacks,
                             Status status) {
  writing_ = false;
  if (!status.is_ok()) {
    // The pending image holds changes that may not be on disk: nothing more
    // may be acknowledged. Restarting replays what did reach the disk.
    broken_ = Status(Code::kIoError, "metadata log: " + status.message() + "; restart kzk-lite");
    log::error(broken_.message());
    for (auto& cb : callbacks) cb.done(broken_, -1);
  } else {
    int64_t offset = first;
    for (const Record& r : records) {
      KREEK_CHECK(committed_.apply(offset, r).is_ok());
      recent_.emplace_back(offset++, to_json(r).dump());
    }
    while (recent_.size() > kRecentRecords) recent_.pop_front();
    for (auto& cb : callbacks) cb.done(Status::ok(), cb.last_offset);
    wake_waiters();
  }
  write_next();
}

void Coordinator::expire_sessions() {
  int64_t now = clock::monotonic_ms();
  int64_t late = now - last_session_check_ms_ - session_check_ms_;
  last_session_check_ms_ = now;
  if (late > session_check_ms_ * 2) {
    // The coordinator itself stalled (its loop was blocked, or the process
    // was stopped): heartbeats sent meanwhile are still unread, so silence
    // says nothing about the brokers. Everyone gets a fresh session. (A
    // standalone broker shares this loop: a long stall of its own must not
    // fence it.)
    log::info("coordinator stalled for " + std::to_string(late) + " ms: broker sessions restart");
    sessions_.restart_all(now);
    return;
  }
  for (auto [node, epoch] : sessions_.expired(now)) {
    sessions_.forget(node);
    const BrokerInfo* b = pending_.broker(node);
    if (b == nullptr || b->broker_epoch != epoch || b->state == BrokerState::kFenced) continue;
    log::info("node " + std::to_string(node.value()) + " (" + b->addr + ") missed its session of " +
              std::to_string(config_.session_timeout_ms) + " ms: fenced");
    propose(controller_.fence(pending_, node), [](Status, int64_t) {});
  }
}

void Coordinator::elect() {
  std::vector<Record> records = controller_.elect_leaders(pending_);
  if (!records.empty()) propose(std::move(records), [](Status, int64_t) {});
}

int run(const CoordinatorConfig& given) {
  CoordinatorConfig config = given;
  log::set_level(config.log_level);
  ::umask(static_cast<mode_t>(config.umask));
  auto token = proto::load_auth_token_from(config.auth_token_file);
  if (!token.is_ok()) {
    log::error(token.status().message());
    return kCoordExitConfig;
  }
  config.auth_token = *token;
  auto tls = load_tls_server(config.tls_cert_file, config.tls_key_file);
  if (!tls.is_ok()) {
    log::error(tls.status().message());
    return kCoordExitConfig;
  }
  config.tls = std::move(tls).value();
  log::info(std::string("kzk-lite (kreek ") + KREEK_VERSION + ") data dir " + config.data_dir);
  if (config.auth_token.empty() && !proto::is_loopback_address(config.listen))
    log::warn("listening on " + config.listen + " without --auth-token-file: anyone who can reach "
              "this port can register brokers and change topics");
  std::unique_ptr<net::EventLoop> loop = net::EventLoop::create();
  auto coordinator = Coordinator::open(config, *loop);
  if (!coordinator.is_ok()) {
    log::error(coordinator.status().message());
    return kCoordExitIoError;
  }
  Coordinator& c = **coordinator;
  int code = kCoordExitOk;
  // Here, not in the branch below: the signal handlers outlive it.
  bool stopping = false;
  if (Status s = c.start(); !s.is_ok()) {
    log::error(s.message());
    code = s.code() == Code::kInvalidRequest ? kCoordExitUsage : kCoordExitUnavailable;
    loop->stop();
  } else {
    log::Level saved = log::level();
    if (!log::enabled(log::Level::kInfo)) log::set_level(log::Level::kInfo);
    log::info("listening on " + c.address());
    log::set_level(saved);
    // Under systemd (Type=notify): started once it listens.
    if (Status n = net::notify_service_manager("READY=1\nSTATUS=listening on " + c.address()); !n.is_ok())
      log::warn(n.message());
    auto on_signal = [&](int sig) {
      if (stopping) {
        log::warn("second signal: exiting now");
        _exit(130);
      }
      stopping = true;
      (void)net::notify_service_manager("STOPPING=1");
      log::info(std::string("shutting down (") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ")");
      c.stop([&] { loop->stop(); });
    };
    loop->on_signal(SIGINT, on_signal);
    loop->on_signal(SIGTERM, on_signal);
  }
  (void)loop->run();
  coordinator->reset();
  log::info("stopped");
  return code;
}

}  // namespace kreek::coord
