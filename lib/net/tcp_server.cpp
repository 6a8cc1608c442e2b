// The listening side: a nonblocking socket bound by hand (so bind errors read
// "bind 127.0.0.1:9092: Address already in use") and watched by a uv_poll_t;
// each readiness event accepts with accept4 and hands the fd to a ConnectionImpl.
// Connections use raw sockets rather than uv_tcp_t for sendfile and writev
// control, and libuv forbids mixing the two on one fd, so the listener does too.
#include "net/tcp_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <vector>

#include "base/clock.h"
#include "base/log.h"
#include "net/address.h"
#include "net/connection.h"

namespace kreek::net {
namespace {

// Accepts per readiness event, so a connection storm still lets the loop serve.
constexpr int kAcceptsPerWakeup = 64;

struct ListenBox : TypedBox<uv_poll_t> {
  std::shared_ptr<ServerCore> core;
  int fd = -1;
  ~ListenBox() override {
    if (fd >= 0) ::close(fd);
    if (core) core->listener = nullptr;
  }
};

int open_reserve_fd() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

void warn_sampled(const std::string& message) {
  static int64_t last_ms = 0;
  kreek::net::warn_sampled(last_ms, message);
}

void on_accept(uv_poll_t* h, int status, int events) {
  auto* box = static_cast<ListenBox*>(static_cast<HandleBox*>(h->data));
  std::shared_ptr<ServerCore> core = box->core;
  if (status < 0) {
    log::error("accept on " + core->address + ": " + uv_strerror(status));
    box->close();
    return;
  }
  for (int i = 0; i < kAcceptsPerWakeup && !box->closing(); ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = accept4(box->fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      if (e == EINTR || e == ECONNABORTED) continue;
      if (e == EAGAIN || e == EWOULDBLOCK) break;
      if ((e == EMFILE || e == ENFILE) && core->reserve_fd >= 0) {
        // Out of fds: the pending connection would keep the listener readable
        // and spin the loop. Give up the spare fd, accept, and hang up (libuv's
        // trick), so the peer hears a refusal instead of silence.
        ::close(core->reserve_fd);
        int shed = accept4(box->fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (shed >= 0) ::close(shed);
        core->reserve_fd = open_reserve_fd();
        warn_sampled("accept on " + core->address + ": " + std::strerror(e) + "; connection dropped");
        continue;
      }
      warn_sampled("accept on " + core->address + ": " + std::strerror(e));
      break;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto conn = std::make_shared<ConnectionImpl>(core, fd, format_address(reinterpret_cast<sockaddr*>(&ss)));
    size_t limit = core->options.max_connections;
    bool refuse = limit > 0 && core->served >= limit;
    if (refuse)
      warn_sampled("refuse connection from " + conn->peer() + " on " + core->address +
                   ": too many connections (" + std::to_string(limit) + ")");
    conn->start(refuse);  // on failure the connection (and fd) dies with `conn`
  }
}

// One timer per server checks every connection's timeouts, a few times per the
// shortest one (so a timeout fires at most a quarter late), rather than a timer per connection.
void start_sweep(const std::shared_ptr<ServerCore>& core) {
  int64_t shortest = 0;
  for (int64_t t : {core->options.idle_timeout_ms, core->options.line_timeout_ms, core->options.send_timeout_ms})
    if (t > 0 && (shortest == 0 || t < shortest)) shortest = t;
  if (shortest == 0) return;
  int64_t every = std::clamp<int64_t>(shortest / 4, 5, 1000);
  core->sweep = core->loop->make_timer();
  core->sweep->start(every, every, [weak = std::weak_ptr<ServerCore>(core)] {
    auto c = weak.lock();
    if (!c) return;
    int64_t now = clock::monotonic_ms();
    std::vector<std::weak_ptr<ConnectionImpl>> conns;  // check_timeouts may close and erase
    conns.reserve(c->connections.size());
    for (auto& [id, conn] : c->connections) conns.push_back(conn->weak_from_this());
    for (auto& w : conns)
      if (auto conn = w.lock()) {
        std::string why = conn->check_timeouts(now);
        if (why.empty()) continue;
        // One sampler per kind (idle, request line, peer not reading): a burst
        // of one kind does not hide the others.
        static int64_t last_ms[3] = {0, 0, 0};
        int kind = why[0] == 'i' ? 0 : why[0] == 'r' ? 1 : 2;
        kreek::net::warn_sampled(last_ms[kind], "close connection from " + conn->peer() + ": " + why);
      }
  });
}

class UvServer final : public Server {
 public:
  explicit UvServer(std::shared_ptr<ServerCore> core) : core_(std::move(core)) {}
  // Handler callbacks stop; accepted connections still send what completes
  // and then close (or are cut by EventLoop::stop()).
  ~UvServer() override {
    core_->detached = true;
    stop_accepting();
    close_all();
  }

  std::string address() const override { return core_->address; }
  void stop_accepting() override {
    if (core_->listener != nullptr) core_->listener->close();
  }
  void close_all() override {
    // Connections leave the map only from close callbacks, but take a
    // snapshot anyway: close() must not depend on that.
    std::vector<std::weak_ptr<ConnectionImpl>> conns;
    conns.reserve(core_->connections.size());
    for (auto& [id, c] : core_->connections) conns.push_back(c->weak_from_this());
    for (auto& w : conns)
      if (auto c = w.lock()) c->close();
  }
  size_t connection_count() const override { return core_->connections.size(); }
  int64_t queued_bytes() const override { return core_->queued_bytes; }

 private:
  std::shared_ptr<ServerCore> core_;
};

}  // namespace

void warn_sampled(int64_t& last_ms, const std::string& message) {
  int64_t now = clock::monotonic_ms();
  if (last_ms != 0 && now - last_ms < 1000) return;
  last_ms = now;
  log::warn(message);
}

void ServerCore::maybe_wake_paused(const std::shared_ptr<ServerCore>& self) {
  if (paused.empty() || wake_queued) return;
  if (options.max_queued_bytes > 0 && queued_bytes > options.max_queued_bytes) return;
  wake_queued = true;
  loop->defer([weak = std::weak_ptr<ServerCore>(self)] {
    auto core = weak.lock();
    if (!core) return;
    core->wake_queued = false;
    auto batch = std::move(core->paused);
    core->paused.clear();
    for (auto& [id, w] : batch)
      if (auto c = w.lock()) c->resume_reading();  // pauses (and re-registers) again if still over
  });
}

ServerCore::~ServerCore() {
  if (reserve_fd >= 0) ::close(reserve_fd);
}

Result<std::unique_ptr<Server>> open_server(UvEventLoop& loop, const std::string& host_port,
                                            const ServerOptions& options, ConnectionHandler handler) {
  std::string host;
  int port = 0;
  KREEK_RETURN_IF_ERROR(parse_host_port(host_port, host, port));
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  KREEK_RETURN_IF_ERROR(resolve_address(host, port, addr, addr_len));

  auto fail = [&](const char* op, int fd) {
    int e = errno;
    if (fd >= 0) ::close(fd);
    return Status(Code::kUnavailable, std::string(op) + " " + host_port + ": " + std::strerror(e));
  };
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("socket", -1);
  // A restarted broker must rebind while old connections sit in TIME_WAIT.
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) return fail("bind", fd);
  if (::listen(fd, SOMAXCONN) != 0) return fail("listen", fd);
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) return fail("getsockname", fd);

  auto core = std::make_shared<ServerCore>();
  core->loop = &loop;
  core->options = options;
  core->handler = std::move(handler);
  core->address = format_address(reinterpret_cast<sockaddr*>(&bound));
  core->reserve_fd = open_reserve_fd();
  start_sweep(core);

  auto* box = new ListenBox;
  int rc = uv_poll_init_socket(loop.uv(), &box->h, fd);
  if (rc != 0) {
    delete box;
    ::close(fd);
    return Status(Code::kUnavailable, "listen " + host_port + ": " + uv_strerror(rc));
  }
  box->h.data = static_cast<HandleBox*>(box);
  box->core = core;
  box->fd = fd;
  core->listener = box;
  uv_poll_start(&box->h, UV_READABLE, on_accept);
  return std::unique_ptr<Server>(std::make_unique<UvServer>(std::move(core)));
}

}  // namespace kreek::net
