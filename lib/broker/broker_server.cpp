// run(): the broker process's life — open the data directory, listen, serve
// until a signal, then shut down in order: stop accepting, answer parked
// fetches, let in-flight fsyncs finish, flush everything, drain connections,
// close the loop.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "base/clock.h"
#include "base/log.h"
#include "broker/broker.h"
#include "broker/broker_context.h"
#include "broker/cluster_member.h"
#include "broker/compaction_scheduler.h"
#include "broker/fetch_purgatory.h"
#include "broker/group_coordinator.h"
#include "broker/replica_manager.h"
#include "broker/flush_scheduler.h"
#include "broker/metrics_http.h"
#include "net/http_endpoint.h"
#include "net/service_notify.h"
#include "broker/request_router.h"
#include "coord/tls_flags.h"
#include "net/net.h"
#include "proto/auth_token.h"
#include "proto/message.h"
#include "storage/log_manager.h"

namespace kreek::broker {

namespace {

constexpr int64_t kDrainPollMs = 10;

// Every connection and every partition's active segment holds descriptors,
// and the soft limit (often 1024) is far below what the kernel allows the
// process (the hard limit), so the broker takes all of it at start.
void raise_open_file_limit() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rlim_t was = rl.rlim_cur;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) rl.rlim_cur = was;  // keep what we have
  }
  auto text = [](rlim_t v) { return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v); };
  log::debug("open file limit " + text(rl.rlim_cur) + " (was " + text(was) + ", hard limit " +
             text(rl.rlim_max) + ")");
}

std::string where(const storage::LogManager::Entry& e) {
  return e.topic->name + "/" + std::to_string(e.partition.value());
}

// Deletes segments past retention and rolls segments past segment.ms.
void sweep_retention(BrokerContext& ctx) {
  TimestampMs now(clock::now_ms());
  for (const auto& e : ctx.logs.logs()) {
    Offset before = e.log->log_start();
    auto deleted = e.log->enforce_retention(now);
    if (!deleted.is_ok()) {
      log::error("retention " + where(e) + ": " + deleted.status().message());
    } else if (*deleted > 0) {
      log::info("retention deleted " + std::to_string(*deleted) + " segment(s) of " + where(e) +
                ", log start " + std::to_string(before.value()) + " -> " +
                std::to_string(e.log->log_start().value()));
    }
    Status s = e.log->roll_if_due(now);
    if (!s.is_ok()) log::error("roll segment " + where(e) + ": " + s.message());
  }
}

class BrokerProcess {
 public:
  BrokerProcess(const BrokerConfig& config, storage::LogManager& logs, net::EventLoop& loop)
      : config_(config), loop_(loop), ctx_(config, logs, &loop), router_(ctx_),
        gate_(config.auth_token, config.read_only_token) {
    router_.set_read_only_check([this](uint64_t conn) { return gate_.is_read_only(conn); });
  }

  // Binds and arms timers and signals; returns an exit code on failure.
  int start() {
    net::ServerOptions options;
    options.max_line_bytes = config_.max_request_bytes;
    options.max_connections = static_cast<size_t>(config_.max_connections);
    options.idle_timeout_ms = config_.idle_timeout_ms;
    options.line_timeout_ms = config_.line_timeout_ms;
    options.max_queued_bytes = config_.max_queued_bytes;
    options.max_pending_output = config_.max_queued_bytes_per_connection;
    options.send_timeout_ms = config_.send_timeout_ms;
    options.max_request_buffer_bytes = config_.max_request_buffer_bytes;
    options.tls = config_.tls_server;
    options.plaintext_reply = coord::tls_required_line();
    net::ConnectionHandler handler;
    handler.on_line = [this](net::Connection& c, std::string_view line, net::ResponseSlot slot) {
      std::string refusal, why;
      if (!gate_.admit(c.id(), line, refusal, why)) return refuse(c, std::move(slot), refusal, why);
      router_.on_line(line, Reply(std::move(slot)), c.peer(), c.id());
    };
    handler.on_oversize = [this](net::Connection& c, int64_t seen, net::ResponseSlot slot) {
      if (!gate_.is_admitted(c.id()))
        return refuse(c, std::move(slot), gate_.refusal_line("null", "authentication required: the first request must be a hello with the auth token"),
                      "oversize line before a hello");
      router_.on_oversize(seen, Reply(std::move(slot)), c.peer());
    };
    handler.on_close = [this](net::Connection& c) { gate_.forget(c.id()); };
    handler.on_refused = [this](net::Connection&, net::ResponseSlot slot) {
      slot.complete(proto::error_line(
          "", Status(Code::kUnavailable, "too many connections (" +
                                             std::to_string(config_.max_connections) +
                                             "); try again later")));
    };
    handler.on_shed = [this](net::Connection&, net::ResponseSlot slot) {
      slot.complete(proto::error_line(
          "", Status(Code::kUnavailable, "the broker holds too many unfinished requests (--max-request-buffer-bytes " +
                                             std::to_string(config_.max_request_buffer_bytes) +
                                             "), and this connection the most; closing it")));
    };
    auto server = loop_.listen(config_.listen, options, std::move(handler));
    if (!server.is_ok()) {
      log::error(server.status().message());
      return server.status().code() == Code::kInvalidRequest ? kExitUsage : kExitUnavailable;
    }
    server_ = std::move(*server);
    ctx_.address = config_.advertise.empty() ? server_->address() : config_.advertise;
    ctx_.metrics.connections = [this] { return static_cast<int64_t>(server_->connection_count()); };
    if (!config_.metrics_listen.empty()) {
      auto http = start_metrics_endpoint(ctx_, loop_, config_.metrics_listen, shutting_down_);
      if (!http.is_ok()) {
        log::error(http.status().message());
        return http.status().code() == Code::kInvalidRequest ? kExitUsage : kExitUnavailable;
      }
      metrics_http_ = std::move(*http);
      log::info(std::string("metrics on ") + (config_.tls_server ? "https://" : "http://") + metrics_http_->address() + "/metrics");
    }
    ClusterMember::Events events;
    events.on_ready = [this] { announce(); };
    events.on_refused = [this](Status why) {
      log::error(why.message());
      exit_code_ = why.code() == Code::kUnauthorized ? kExitNoPerm : kExitConfig;
      shut_down("refused by the cluster");
    };
    member_ = std::make_unique<ClusterMember>(config_, ctx_, loop_, std::move(events));
    if (Status s = member_->start(); !s.is_ok()) {
      log::error("start the embedded coordinator: " + s.message());
      return s.code() == Code::kUnavailable ? kExitUnavailable : kExitIoError;
    }

    ctx_.replicas->start();
    flush_timer_ = loop_.make_timer();
    flush_timer_->start(config_.flush_check_interval_ms, config_.flush_check_interval_ms,
                        [this] {
                          ctx_.flusher->tick();
                          ctx_.warnings.flush();
                        });
    retention_timer_ = loop_.make_timer();
    retention_timer_->start(config_.retention_check_interval_ms,
                            config_.retention_check_interval_ms, [this] { sweep_retention(ctx_); });
    compaction_timer_ = loop_.make_timer();
    compaction_timer_->start(config_.compaction_check_interval_ms,
                             config_.compaction_check_interval_ms, [this] { ctx_.compactor->tick(); });
    loop_.on_signal(SIGINT, [this](int sig) { on_signal(sig); });
    loop_.on_signal(SIGTERM, [this](int sig) { on_signal(sig); });
    return kExitOk;
  }

  int exit_code() const { return exit_code_; }

 private:
  // Registered and live in the cluster: ready to serve. Scripts wait for this
  // line to learn the port, so it is written even under -q (the one info
  // line -q keeps).
  void announce() {
    log::Level saved = log::level();
    if (!log::enabled(log::Level::kInfo)) log::set_level(log::Level::kInfo);
    log::info("listening on " + server_->address());
    log::set_level(saved);
    // Under systemd (Type=notify): started once it serves.
    if (Status s = net::notify_service_manager("READY=1\nSTATUS=listening on " + server_->address()); !s.is_ok())
      log::warn(s.message());
  }

  // An unauthenticated connection: its one answer, then the connection closes.
  void refuse(net::Connection& c, net::ResponseSlot slot, const std::string& refusal, const std::string& why) {
    ctx_.warnings.warn_lazily([&] { return "refused connection from " + c.peer() + ": " + why; });
    slot.complete(refusal);
    c.close();
  }

  void on_signal(int sig) {
    if (shutting_down_) {
      // The user insists (redis): no more waiting on disks or clients.
      log::warn("second signal: exiting now without a clean shutdown");
      _exit(130);
    }
    shut_down(sig == SIGINT ? "SIGINT" : "SIGTERM");
  }

  void shut_down(const std::string& why) {
    if (shutting_down_) return;
    shutting_down_ = true;
    (void)net::notify_service_manager("STOPPING=1");
    log::info("shutting down (" + why + ")");
    // Controlled shutdown: the cluster moves this broker's leaderships to
    // other in-sync replicas first, so producers stall only briefly.
    member_->leave(config_.shutdown_timeout_ms / 2, [this] { stop_serving(); });
  }

  void stop_serving() {
    ctx_.stopping = true;
    server_->stop_accepting();
    flush_timer_->stop();
    retention_timer_->stop();
    compaction_timer_->stop();
    ctx_.compactor->stop();
    ctx_.groups->stop();  // parked joins are answered before the connections drain
    ctx_.replicas->stop();
    ctx_.purgatory->complete_all();
    // The fsyncs run on the worker threads, several at once; flush_all then
    // finds nothing left to sync but writes the checkpoint.
    ctx_.flusher->flush_everything();
    ctx_.flusher->when_idle([this] { flush_and_drain(); });
  }

  void flush_and_drain() {
    Status s = ctx_.logs.flush_all();
    if (!s.is_ok()) {
      log::error("flush on shutdown: " + s.message());
      exit_code_ = kExitIoError;
    }
    server_->close_all();
    if (metrics_http_) metrics_http_->stop();
    drain_deadline_ = clock::monotonic_ms() + config_.shutdown_timeout_ms;
    drain_timer_ = loop_.make_timer();
    drain_timer_->start(0, kDrainPollMs, [this] {
      size_t open = server_->connection_count();
      if (open > 0 && clock::monotonic_ms() < drain_deadline_) return;
      if (open > 0)
        log::warn("closing " + std::to_string(open) + " connection(s) that did not drain in time");
      drain_timer_->stop();
      member_->stop([this] { loop_.stop(); });
    });
  }

  const BrokerConfig& config_;
  net::EventLoop& loop_;
  BrokerContext ctx_;
  RequestRouter router_;
  proto::AuthGate gate_;  // no token: admits everything
  std::unique_ptr<net::Server> server_;
  std::unique_ptr<ClusterMember> member_;
  std::unique_ptr<net::HttpEndpoint> metrics_http_;
  std::unique_ptr<net::Timer> flush_timer_, retention_timer_, compaction_timer_, drain_timer_;
  bool shutting_down_ = false;
  int64_t drain_deadline_ = 0;
  int exit_code_ = kExitOk;
};

// Builds the TLS contexts from the files the flags named.
Status load_tls(BrokerConfig& c) {
  KREEK_ASSIGN_OR_RETURN(c.tls_server, coord::load_tls_server(c.tls_cert_file, c.tls_key_file));
  if (!c.tls_ca_file.empty()) {
    KREEK_ASSIGN_OR_RETURN(c.tls_client, net::TlsContext::for_client(c.tls_ca_file));
  }
  return Status::ok();
}

}  // namespace

int run(const BrokerConfig& given) {
  BrokerConfig config = given;
  config.retention_check_interval_ms =
      std::clamp<int64_t>(config.retention_check_interval_ms, 1, kMaxRetentionCheckIntervalMs);
  config.flush_check_interval_ms = std::max<int64_t>(config.flush_check_interval_ms, 1);
  config.compaction_check_interval_ms = std::max<int64_t>(config.compaction_check_interval_ms, 1);
  log::set_level(config.log_level);
  if (config.group_min_session_timeout_ms > config.group_max_session_timeout_ms) {
    log::error("--group-min-session-timeout-ms " + std::to_string(config.group_min_session_timeout_ms) +
               " is more than --group-max-session-timeout-ms " + std::to_string(config.group_max_session_timeout_ms));
    return kExitUsage;
  }
  // Private by default: topics are nobody else's business, and the data dir
  // holds the cluster's metadata too (--umask widens it).
  ::umask(static_cast<mode_t>(config.umask));
  auto token = proto::load_auth_token_from(config.auth_token_file);
  if (!token.is_ok()) {
    log::error(token.status().message());
    return kExitConfig;
  }
  config.auth_token = *token;
  if (!config.read_only_token_file.empty()) {
    if (config.auth_token.empty()) {
      log::error("--read-only-token-file needs --auth-token-file (or $KREEK_AUTH_TOKEN_FILE): "
                 "without it every client may write");
      return kExitUsage;
    }
    auto read_only = proto::load_auth_token(config.read_only_token_file);
    if (!read_only.is_ok()) {
      log::error(read_only.status().message());
      return kExitConfig;
    }
    if (*read_only == config.auth_token) {
      log::error("--read-only-token-file " + config.read_only_token_file + " holds the same token as "
                 "--auth-token-file: a read-only token must differ");
      return kExitConfig;
    }
    config.read_only_token = *read_only;
  }
  if (Status s = load_tls(config); !s.is_ok()) {
    log::error(s.message());
    return kExitConfig;
  }
  log::info(std::string("kreek ") + KREEK_VERSION + " node " + std::to_string(config.node_id) +
            " data dir " + config.data_dir);
  if (config.auth_token.empty() && !proto::is_loopback_address(config.listen))
    log::warn("listening on " + config.listen + " without --auth-token-file: anyone who can reach "
              "this port can read, write and delete topics");

  raise_open_file_limit();
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    log::error("create data dir " + config.data_dir + ": " + ec.message());
    return kExitCantCreate;
  }
  auto logs = storage::LogManager::open(config.data_dir, config.log_defaults,
                                        [](std::string_view m) { log::info(m); },
                                        static_cast<size_t>(config.max_open_segments));
  if (!logs.is_ok()) {
    log::error(logs.status().message());
    return logs.status().code() == Code::kInternal ? kExitSoftware : kExitIoError;
  }

  int code = kExitOk;
  {
    std::unique_ptr<net::EventLoop> loop = net::EventLoop::create();
    {
      BrokerProcess broker(config, **logs, *loop);
      code = broker.start();
      if (code == kExitOk) {
        int rc = loop->run();
        if (rc != 0) log::warn("event loop closed with handles still open");
        code = broker.exit_code();
      } else {
        loop->stop();
        (void)loop->run();
      }
    }
  }
  logs->reset();  // closes every log and releases the directory lock
  log::info("stopped");
  return code;
}

}  // namespace kreek::broker
