// LinkCore: the state machine behind a Link (connecting, open, closing), kept
// alive by its two libuv handles so the Link object can go away at any time.
// on_closed is delivered once both handles have closed, from the last close
// callback, which is why it never runs inside a Link method. With TLS the
// link counts as connected once the handshake (not just TCP's) has finished.
#include "net/tcp_link.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "net/address.h"
#include "net/line_framer.h"
#include "net/output_queue.h"
#include "net/tls.h"

namespace kreek::net {
namespace {

// Same pacing as server connections: one read chunk is the most a raw chunk
// holds, and a fast peer yields the loop after this many reads.
constexpr size_t kLinkReadChunk = 64 << 10;
constexpr int kLinkReadsPerWakeup = 16;
// Keepalive probes after the idle time: every 10 s, 6 times, so a vanished
// peer is noticed about a minute after probing starts.
constexpr int kKeepaliveInterval = 10;
constexpr int kKeepaliveCount = 6;

// The pending error on a socket, or `fallback` when there is none.
int socket_error(int fd, int fallback) {
  int err = 0;
  socklen_t len = sizeof err;
  if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) return err;
  return fallback;
}

class LinkCore : public std::enable_shared_from_this<LinkCore> {
 public:
  LinkCore(UvEventLoop& loop, std::string peer, const LinkOptions& options, LinkHandler handler)
      : loop_(&loop),
        peer_(std::move(peer)),
        options_(options),
        handler_(std::move(handler)),
        framer_(options.max_line_bytes) {}
  ~LinkCore() {
    if (fd_ >= 0) ::close(fd_);
  }

  void start();
  const std::string& peer() const { return peer_; }
  bool is_connected() const { return connected_ && !closing_; }
  bool is_open() const { return !closing_; }
  bool send(std::string bytes);
  int64_t pending_output() const { return out_.bytes(); }
  void expect_raw(int64_t n) {
    if (!closing_ && n > 0) raw_left_ += n;
  }
  int64_t raw_remaining() const { return raw_left_; }
  void close() { fail(Status::ok()); }
  // The Link object is gone: close without any further callback.
  void detach() {
    detached_ = true;
    fail(Status::ok());
  }

 private:
  struct PollBox : TypedBox<uv_poll_t> {
    std::shared_ptr<LinkCore> core;
    ~PollBox() override { core->handle_closed(this); }
  };
  struct TimerBox : TypedBox<uv_timer_t> {
    std::shared_ptr<LinkCore> core;
    ~TimerBox() override { core->handle_closed(this); }
  };

  void on_poll(int status, int events);
  void on_connect_result(int status);
  void drive_handshake();
  void finish_connect();
  void read_pending_later();
  void on_readable();
  void process_input();
  void flush();
  void update_poll();
  void fail(Status why);
  void fail_errno(const char* op, int err) {
    fail(Status(Code::kUnavailable, std::string(op) + " " + peer_ + ": " + std::strerror(err)));
  }
  void handle_closed(HandleBox* box);
  bool live() const { return !closing_ && !detached_; }

  UvEventLoop* loop_;
  std::string peer_;
  LinkOptions options_;
  LinkHandler handler_;
  int fd_ = -1;
  std::string host_;            // peer_ without the port: what its certificate must name
  std::unique_ptr<TlsSession> tls_;  // set once TCP connected, when options_.tls is
  bool handshaking_ = false;    // TCP is up, the TLS handshake is not done
  bool tls_read_queued_ = false;
  PollBox* poll_ = nullptr;    // null until opened and once closed
  TimerBox* timer_ = nullptr;  // likewise
  LineFramer framer_;
  OutputQueue out_;
  int64_t raw_left_ = 0;
  int events_ = 0;              // what the poll handle watches now
  bool connected_ = false;
  bool write_blocked_ = false;  // the socket took less than we had
  bool closing_ = false;        // fail() ran or a handle was closed under us
  bool detached_ = false;       // the Link object is gone: no callbacks
  bool in_process_ = false;     // inside process_input(): flush at its end
  Status why_;                  // what on_closed reports; set by the first fail()
};

void LinkCore::start() {
  if (loop_->stopping()) {
    // Nothing will run the loop's close callbacks for us: stay closed and quiet.
    closing_ = true;
    detached_ = true;
    return;
  }
  // The timer exists first and always, so even a malformed address is
  // reported from the loop (its close callback), never from inside connect().
  timer_ = new TimerBox;
  uv_timer_init(loop_->uv(), &timer_->h);
  timer_->h.data = static_cast<HandleBox*>(timer_);
  timer_->core = shared_from_this();

  std::string host;
  int port = 0;
  Status s = parse_host_port(peer_, host, port);
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  if (s.is_ok()) s = resolve_address(host, port, addr, addr_len);
  if (!s.is_ok()) return fail(s);
  host_ = host;

  fd_ = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return fail_errno("socket", errno);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (options_.keepalive_idle_s > 0) {
    int idle = options_.keepalive_idle_s, interval = kKeepaliveInterval, count = kKeepaliveCount;
    setsockopt(fd_, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    setsockopt(fd_, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd_, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    setsockopt(fd_, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  }

  auto* box = new PollBox;
  int rc = uv_poll_init_socket(loop_->uv(), &box->h, fd_);
  if (rc != 0) {
    delete box;  // never initialised, so libuv holds no reference to it
    return fail(Status(Code::kUnavailable, "connect " + peer_ + ": " + uv_strerror(rc)));
  }
  box->h.data = static_cast<HandleBox*>(box);
  box->core = shared_from_this();
  poll_ = box;

  int r;
  do {
    r = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), addr_len);
  } while (r != 0 && errno == EINTR);
  // Even an immediate success is reported through the poll handle (the
  // socket is writable at once), so on_connected never runs inside connect().
  if (r != 0 && errno != EINPROGRESS) return fail_errno("connect", errno);
  if (options_.connect_timeout_ms > 0) {
    uv_timer_start(
        &timer_->h,
        [](uv_timer_t* t) {
          auto* b = static_cast<TimerBox*>(static_cast<HandleBox*>(t->data));
          LinkCore& c = *b->core;
          if (c.connected_ || c.closing_) return;
          // A peer that accepts TCP but never answers the TLS handshake (a
          // plain-text server waiting for a line) ends here too.
          c.fail(Status(Code::kTimeout, std::string(c.handshaking_ ? "tls handshake with " : "connect ") + c.peer_ +
                                            ": timed out after " + std::to_string(c.options_.connect_timeout_ms) +
                                            " ms"));
        },
        static_cast<uint64_t>(options_.connect_timeout_ms), 0);
  }
  update_poll();
}

void LinkCore::update_poll() {
  if (closing_ || poll_ == nullptr || poll_->closing()) return;
  int want = 0;
  if (handshaking_) {
    want = tls_->want() == TlsSession::Want::kWrite ? UV_WRITABLE : UV_READABLE;
  } else if (!connected_) {
    want = UV_WRITABLE;  // the handshake's outcome
  } else {
    want = UV_READABLE;
    if (!out_.empty()) want |= UV_WRITABLE;
  }
  if (want == events_) return;
  events_ = want;
  uv_poll_start(&poll_->h, want, [](uv_poll_t* h, int status, int events) {
    auto* b = static_cast<PollBox*>(static_cast<HandleBox*>(h->data));
    b->core->on_poll(status, events);
  });
}

void LinkCore::on_poll(int status, int events) {
  if (!live()) return;
  auto self = shared_from_this();
  if (handshaking_) {
    if (status < 0) {
      int err = socket_error(fd_, 0);
      return fail(Status(Code::kUnavailable, "tls handshake with " + peer_ + ": " +
                                                 (err != 0 ? std::strerror(err) : uv_strerror(status))));
    }
    drive_handshake();
    return;
  }
  if (!connected_) {
    on_connect_result(status);
    return;
  }
  if (status < 0) {
    // libuv reports a socket error as EBADF; the socket knows the real one.
    int err = socket_error(fd_, 0);
    if (err != 0) return fail_errno("read", err);
    return fail(Status(Code::kUnavailable, "read " + peer_ + ": " + uv_strerror(status)));
  }
  if (tls_) {
    // The session may wait on either direction whatever the queue wants.
    if (!out_.empty()) flush();
    if (live()) on_readable();
    return;
  }
  if (events & UV_WRITABLE) {
    flush();
    if (!live()) return;
  }
  if (events & UV_READABLE) on_readable();
}

void LinkCore::on_connect_result(int status) {
  int err = socket_error(fd_, 0);
  if (err != 0) return fail_errno("connect", err);
  if (status < 0) return fail(Status(Code::kUnavailable, "connect " + peer_ + ": " + uv_strerror(status)));
  if (options_.tls) {
    tls_ = TlsSession::connect(*options_.tls, fd_, host_);
    if (!tls_) return fail(Status(Code::kUnavailable, "tls handshake with " + peer_ + ": out of memory"));
    handshaking_ = true;
    drive_handshake();
    return;
  }
  finish_connect();
}

void LinkCore::drive_handshake() {
  int rc = tls_->handshake();
  if (rc < 0) return fail(Status(Code::kUnavailable, "tls handshake with " + peer_ + ": " + tls_->error()));
  if (rc == 0) return update_poll();
  handshaking_ = false;
  finish_connect();
}

void LinkCore::finish_connect() {
  connected_ = true;
  if (timer_ != nullptr && !timer_->closing()) uv_timer_stop(&timer_->h);
  log::debug("link to " + peer_ + " connected");
  in_process_ = true;  // bytes sent from on_connected join the queued ones
  if (handler_.on_connected) handler_.on_connected();
  in_process_ = false;
  if (!live()) return;
  flush();  // requests queued before the handshake, in one write
}

void LinkCore::on_readable() {
  for (int i = 0; i < kLinkReadsPerWakeup && live(); ++i) {
    char* p = framer_.prepare(kLinkReadChunk);
    ssize_t n = tls_ ? tls_->read(p, kLinkReadChunk) : ::read(fd_, p, kLinkReadChunk);
    if (n > 0) {
      framer_.commit(static_cast<size_t>(n));
      process_input();
      if (static_cast<size_t>(n) < kLinkReadChunk) break;  // drained; poll says when more comes
      continue;
    }
    if (n == 0) {
      std::string where = raw_left_ > 0 ? " with " + std::to_string(raw_left_) + " raw bytes still due" : "";
      return fail(Status(Code::kUnavailable, "read " + peer_ + ": connection closed by peer" + where));
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (tls_) return fail(Status(Code::kUnavailable, "read " + peer_ + ": " + tls_->error()));
    return fail_errno("read", errno);
  }
  read_pending_later();
}

// Decrypted bytes left inside the session never make the socket readable.
void LinkCore::read_pending_later() {
  if (!tls_ || !live() || tls_read_queued_ || !tls_->has_pending()) return;
  tls_read_queued_ = true;
  loop_->defer([weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    self->tls_read_queued_ = false;
    if (self->live()) self->on_readable();
  });
}

// Hands buffered input out as raw chunks while a raw region is open and as
// lines otherwise, stopping as soon as a callback closes or drops the link.
void LinkCore::process_input() {
  if (in_process_) return;  // the outer call picks up where this one would
  in_process_ = true;
  while (live()) {
    if (raw_left_ > 0) {
      std::string_view chunk = framer_.take_raw(static_cast<size_t>(raw_left_));
      if (chunk.empty()) break;
      raw_left_ -= static_cast<int64_t>(chunk.size());
      if (handler_.on_raw) handler_.on_raw(chunk, raw_left_ == 0);
      continue;
    }
    LineFramer::Event e = framer_.next();
    if (e.kind == LineFramer::Kind::kNone) break;
    if (e.kind == LineFramer::Kind::kOversize) {
      fail(Status(Code::kMessageTooLarge, "read " + peer_ + ": line of " + std::to_string(e.bytes_seen) +
                                              " bytes, over the limit of " +
                                              std::to_string(options_.max_line_bytes)));
      break;
    }
    if (handler_.on_line) handler_.on_line(e.line);
  }
  in_process_ = false;
  if (live()) flush();  // one write for everything the callbacks sent
}

bool LinkCore::send(std::string bytes) {
  if (closing_) return false;
  if (out_.bytes() + static_cast<int64_t>(bytes.size()) > options_.max_pending_output) {
    fail(Status(Code::kUnavailable, "send " + peer_ + ": over " + std::to_string(options_.max_pending_output) +
                                        " bytes queued and the peer is not reading"));
    return false;
  }
  out_.push(Response{std::move(bytes), {}});
  // Outside a callback, wait for the poll's writability report (next loop
  // iteration) so that every send of this iteration leaves in one sendmsg.
  if (!in_process_) update_poll();
  return true;
}

void LinkCore::flush() {
  if (!live() || !connected_) return;
  if (!out_.empty()) {
    std::string error;
    OutputQueue::Flush f = out_.flush(fd_, error, tls_.get());
    if (f == OutputQueue::Flush::kError) {
      return fail(Status(Code::kUnavailable, "write " + peer_ + ": " + error));
    }
    write_blocked_ = f == OutputQueue::Flush::kBlocked;
  } else {
    write_blocked_ = false;
  }
  update_poll();
}

void LinkCore::fail(Status why) {
  if (closing_) return;
  closing_ = true;
  why_ = std::move(why);
  if (!why_.is_ok()) log::debug("link " + why_.to_string());
  out_.clear();
  raw_left_ = 0;
  // The fd is closed once libuv has let go of it (handle_closed).
  if (poll_ != nullptr) poll_->close();
  if (timer_ != nullptr) timer_->close();
}

// From each handle's close callback, however the close began (fail() or
// EventLoop::stop()). The second one to close reports the link closed.
void LinkCore::handle_closed(HandleBox* box) {
  if (box == poll_) poll_ = nullptr;
  if (box == timer_) timer_ = nullptr;
  if (!closing_) {
    // EventLoop::stop() closed our handles: close the rest the same way.
    fail(Status(Code::kUnavailable, "link " + peer_ + ": event loop stopped"));
  }
  if (poll_ != nullptr || timer_ != nullptr) return;
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (detached_) return;
  detached_ = true;  // on_closed is the last callback
  if (handler_.on_closed) handler_.on_closed(why_);
}

class UvLink final : public Link {
 public:
  explicit UvLink(std::shared_ptr<LinkCore> core) : core_(std::move(core)) {}
  ~UvLink() override { core_->detach(); }

  const std::string& peer() const override { return core_->peer(); }
  bool is_connected() const override { return core_->is_connected(); }
  bool is_open() const override { return core_->is_open(); }
  bool send(std::string bytes) override { return core_->send(std::move(bytes)); }
  int64_t pending_output() const override { return core_->pending_output(); }
  void expect_raw(int64_t n) override { core_->expect_raw(n); }
  int64_t raw_remaining() const override { return core_->raw_remaining(); }
  void close() override { core_->close(); }

 private:
  std::shared_ptr<LinkCore> core_;
};

}  // namespace

std::unique_ptr<Link> open_link(UvEventLoop& loop, const std::string& host_port,
                                const LinkOptions& options, LinkHandler handler) {
  auto core = std::make_shared<LinkCore>(loop, host_port, options, std::move(handler));
  core->start();
  return std::make_unique<UvLink>(std::move(core));
}

}  // namespace kreek::net
