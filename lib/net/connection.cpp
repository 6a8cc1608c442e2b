// ConnectionImpl: reading, line dispatch, in-order responses and the close
// rules (half-close friendly on EOF, immediate on error).
#include "net/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "base/clock.h"
#include "base/log.h"
#include "net/response_slot.h"

namespace kreek::net {
namespace {
// Reads per readiness event before yielding, so one fast sender cannot starve
// the other connections on the loop.
constexpr int kReadsPerWakeup = 16;

std::atomic<uint64_t> g_next_id{1};

int64_t response_bytes(const Response& r) {
  int64_t n = static_cast<int64_t>(r.head.size());
  for (const auto& range : r.ranges) n += range.len > 0 ? range.len : 0;
  return n;
}
}  // namespace

struct ConnectionImpl::PollBox : TypedBox<uv_poll_t> {
  std::shared_ptr<ConnectionImpl> conn;  // the connection lives as long as its handle
  ~PollBox() override {
    if (conn) conn->handle_closed();
  }
};

ConnectionImpl::ConnectionImpl(std::shared_ptr<ServerCore> core, int fd, std::string peer)
    : core_(std::move(core)),
      fd_(fd),
      id_(g_next_id.fetch_add(1)),
      peer_(std::move(peer)),
      framer_(core_->options.max_line_bytes) {}

ConnectionImpl::~ConnectionImpl() {
  if (fd_ >= 0) ::close(fd_);
}

bool ConnectionImpl::start(bool refuse) {
  if (core_->options.tls) {
    tls_ = TlsSession::accept(*core_->options.tls, fd_);
    if (!tls_) {
      log::warn("tls session for connection " + peer_ + ": out of memory");
      return false;
    }
  }
  auto* box = new PollBox;
  int rc = uv_poll_init_socket(core_->loop->uv(), &box->h, fd_);
  if (rc != 0) {
    delete box;  // never initialised, so libuv holds no reference to it
    log::warn("watch connection " + peer_ + ": " + uv_strerror(rc));
    return false;
  }
  box->h.data = static_cast<HandleBox*>(box);
  box->conn = shared_from_this();
  box_ = box;
  core_->connections[id_] = this;
  log::debug("connection " + std::to_string(id_) + " from " + peer_);
  if (refuse) {
    refused_ = true;
    close_requested_ = true;  // before the reply, so sending it finishes the close
    ResponseSlot slot = reserve();
    if (!core_->detached && core_->handler.on_refused) core_->handler.on_refused(*this, std::move(slot));
    else slot.complete_empty();
    after_progress();
    return true;
  }
  ++core_->served;
  last_active_ms_ = clock::monotonic_ms();
  update_poll();
  return true;
}

bool ConnectionImpl::is_open() const { return !closing_ && box_ != nullptr && !box_->closing(); }

void ConnectionImpl::close() {
  if (closing_ || close_requested_) return;
  close_requested_ = true;
  update_poll();
  maybe_finish();
}

void ConnectionImpl::abort() {
  if (closing_) return;
  closing_ = true;
  out_.clear();
  slots_.clear();
  held_bytes_ = 0;
  held_mem_ = 0;
  account();
  core_->request_bytes -= request_counted_;
  request_counted_ = 0;
  if (box_ != nullptr) box_->close();  // the fd is closed once libuv has let go of it
}

// Called from the poll handle's close callback, however the close began.
void ConnectionImpl::handle_closed() {
  closing_ = true;
  out_.clear();
  slots_.clear();
  held_bytes_ = 0;
  held_mem_ = 0;
  account();
  core_->request_bytes -= request_counted_;
  request_counted_ = 0;
  core_->paused.erase(id_);
  box_ = nullptr;
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  core_->connections.erase(id_);
  if (!refused_) --core_->served;
  log::debug("connection " + std::to_string(id_) + " from " + peer_ + " closed");
  if (!core_->detached && core_->handler.on_close) core_->handler.on_close(*this);
}

void ConnectionImpl::on_poll(int status, int events) {
  if (status < 0) {
    // An error on the socket: a reset, most often. A TLS peer that has not
    // finished its handshake (a client refusing our certificate closes with
    // the rest of our flight unread, which resets) may have said why first:
    // the read finds its alert, or the reset, and logs the failed handshake.
    if (tls_ && !tls_->handshake_done()) on_readable();
    if (is_open()) abort();
    return;
  }
  if (tls_) {
    // A session may need the socket's other direction (a handshake inside a
    // write waits for input, one inside a read may wait to send): try both.
    if (!out_.empty()) flush();
    if (is_open()) on_readable();
    return;
  }
  if (events & UV_WRITABLE) {
    flush();
    if (!is_open()) return;
  }
  if (events & UV_READABLE) on_readable();
}

bool ConnectionImpl::check_first_byte() {
  if (first_byte_seen_) return true;
  unsigned char b = 0;
  ssize_t n = ::recv(fd_, &b, 1, MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;
  first_byte_seen_ = true;
  if (n != 1 || is_tls_handshake_byte(b)) return true;  // EOF and errors: the read reports them
  static int64_t last_warn_ms = 0;
  warn_sampled(last_warn_ms, "close connection from " + peer_ + ": plain text on a tls listener");
  const std::string& reply = core_->options.plaintext_reply;
  if (!reply.empty()) (void)::send(fd_, reply.data(), reply.size(), MSG_NOSIGNAL);
  linger_close();
  return false;
}

void ConnectionImpl::read_error(ssize_t n) {
  (void)n;
  if (tls_) {
    // A peer that fails the handshake (a wrong CA, a scanner) is worth a line;
    // one that fails later just went away.
    if (!tls_->handshake_done()) {
      static int64_t last_warn_ms = 0;
      warn_sampled(last_warn_ms, "tls handshake with " + peer_ + ": " + tls_->error());
    } else {
      log::debug("read connection " + peer_ + ": " + tls_->error());
    }
  } else {
    log::debug("read connection " + peer_ + ": " + std::strerror(errno));
  }
}

void ConnectionImpl::on_readable() {
  auto self = shared_from_this();
  if (tls_ && !check_first_byte()) {
    if (is_open()) after_progress();
    return;
  }
  for (int i = 0; i < kReadsPerWakeup; ++i) {
    if (!is_open() || eof_ || close_requested_ || lines_pending_ || over_limits()) break;
    char* p = framer_.prepare(kReadChunk);
    ssize_t n = tls_ ? tls_->read(p, kReadChunk) : ::read(fd_, p, kReadChunk);
    if (n > 0) {
      last_active_ms_ = clock::monotonic_ms();
      bool had_partial = framer_.buffered() > 0 || framer_.skipping();
      framer_.commit(static_cast<size_t>(n));
      process_lines();
      // The line timeout runs from the first byte of the line still unfinished.
      if (framer_.buffered() == 0 && !framer_.skipping()) line_start_ms_ = -1;
      else if (!had_partial || line_start_ms_ < 0 || lines_seen_) line_start_ms_ = last_active_ms_;
      lines_seen_ = false;
      if (static_cast<size_t>(n) < kReadChunk) break;  // drained; poll says when more comes
      continue;
    }
    if (n == 0) {
      eof_ = true;
      process_lines();
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    // ECONNRESET and friends: the peer is gone, and so is anything we owed it.
    read_error(n);
    abort();
    return;
  }
  account_request();  // may close this connection, or another
  if (is_open()) after_progress();
}

// Hands out buffered lines until the buffer runs dry or the connection has
// too much outstanding; then, after EOF, the unterminated last line.
void ConnectionImpl::process_lines() {
  if (in_process_) return;  // the outer call picks up where this one would
  in_process_ = true;
  auto self = shared_from_this();
  auto& handler = core_->handler;
  const auto turn_start = std::chrono::steady_clock::now();
  int handled = 0;
  while (is_open() && !close_requested_) {
    if (over_limits()) {
      lines_pending_ = true;
      break;
    }
    if (handled > 0 &&
        (handled >= kLinesPerTurn ||
         std::chrono::steady_clock::now() - turn_start >= std::chrono::microseconds(kTurnBudgetUs))) {
      // This connection's turn is over; maybe_resume() continues on the next one.
      lines_pending_ = true;
      break;
    }
    ++handled;
    LineFramer::Event e = framer_.next();
    if (e.kind == LineFramer::Kind::kNone) {
      lines_pending_ = false;
      if (!eof_ || tail_done_) break;
      tail_done_ = true;
      auto tail = framer_.take_tail();
      if (!tail) break;
      e.kind = LineFramer::Kind::kLine;
      e.line = *tail;
    }
    lines_seen_ = true;
    ResponseSlot slot = reserve();
    if (core_->detached) {
      slot.complete_empty();
    } else if (e.kind == LineFramer::Kind::kLine) {
      if (handler.on_line) handler.on_line(*this, e.line, std::move(slot));
      else slot.complete_empty();
    } else {
      if (handler.on_oversize) handler.on_oversize(*this, e.bytes_seen, std::move(slot));
      else slot.complete_empty();
    }
  }
  in_process_ = false;
  // Handled lines leave the count (shedding waits for the next read).
  account_request(/*may_shed=*/false);
  flush();  // one write for every response the batch of lines completed
}

ResponseSlot ConnectionImpl::reserve() {
  slots_.emplace_back();
  auto impl = std::make_shared<ResponseSlot::Impl>();
  impl->conn = weak_from_this();
  impl->seq = next_seq_++;
  return ResponseSlot(std::move(impl));
}

void ConnectionImpl::complete(uint64_t seq, Response r) {
  if (!is_open()) return;
  if (seq < first_seq_ || seq - first_seq_ >= slots_.size()) return;  // from before a reset
  Pending& p = slots_[seq - first_seq_];
  if (p.done) return;
  p.done = true;
  last_active_ms_ = clock::monotonic_ms();  // idle time counts from the last answer
  held_bytes_ += response_bytes(r);
  held_mem_ += static_cast<int64_t>(r.head.size());
  p.response = std::move(r);
  if (seq != first_seq_) {
    account();
    update_poll();  // it may now hold enough to pause reading
    return;
  }
  if (out_.empty()) last_write_ms_ = last_active_ms_;  // the send timeout starts now
  while (!slots_.empty() && slots_.front().done) {
    held_bytes_ -= response_bytes(slots_.front().response);
    held_mem_ -= static_cast<int64_t>(slots_.front().response.head.size());
    out_.push(std::move(slots_.front().response));
    slots_.pop_front();
    ++first_seq_;
  }
  account();
  // Write at once: most responses leave without waiting for a poll round trip.
  // Inside process_lines() the write waits for the end of the batch instead.
  if (!in_process_) flush();
}

void ConnectionImpl::flush() {
  if (!is_open()) return;
  if (!out_.empty()) {
    std::string error;
    int64_t before = out_.bytes();
    OutputQueue::Flush f = out_.flush(fd_, error, tls_.get());
    if (out_.bytes() != before) last_write_ms_ = clock::monotonic_ms();
    if (f == OutputQueue::Flush::kError) {
      log::debug("connection " + peer_ + ": " + error);
      abort();
      return;
    }
    write_blocked_ = f == OutputQueue::Flush::kBlocked;
  } else {
    write_blocked_ = false;
  }
  after_progress();
}

void ConnectionImpl::after_progress() {
  if (!is_open()) return;
  account();
  update_poll();
  maybe_resume();
  maybe_finish();
}

bool ConnectionImpl::over_limits() const {
  return held_bytes_ + out_.bytes() > core_->options.max_pending_output ||
         slots_.size() >= kMaxUncompletedSlots || over_global_limit();
}

// Only connections that hold queued bytes pause: the ones that read their
// answers keep being served while the others wait.
bool ConnectionImpl::over_global_limit() const {
  int64_t limit = core_->options.max_queued_bytes;
  return limit > 0 && counted_ > 0 && core_->queued_bytes > limit;
}

void ConnectionImpl::account() {
  int64_t now = held_mem_ + out_.buffer_bytes();
  if (now == counted_) return;
  bool fell = now < counted_;
  core_->queued_bytes += now - counted_;
  counted_ = now;
  if (fell) core_->maybe_wake_paused(core_);
}

void ConnectionImpl::account_request(bool may_shed) {
  if (closing_) return;
  int64_t now = static_cast<int64_t>(framer_.buffered());
  core_->request_bytes += now - request_counted_;
  request_counted_ = now;
  int64_t limit = core_->options.max_request_buffer_bytes;
  if (!may_shed || limit <= 0 || core_->request_bytes <= limit) return;
  ConnectionImpl* biggest = this;
  for (const auto& [id, c] : core_->connections)
    if (!c->closing_ && !c->close_requested_ && c->request_counted_ > biggest->request_counted_) biggest = c;
  static int64_t last_warn_ms = 0;
  warn_sampled(last_warn_ms, "closing connection " + biggest->peer_ + ": unhandled request bytes of all clients exceed " +
                                 std::to_string(limit) + " bytes, and it holds the most (" +
                                 std::to_string(biggest->request_counted_) + ")");
  biggest->shed();
}

void ConnectionImpl::shed() {
  auto self = shared_from_this();
  framer_ = LineFramer(core_->options.max_line_bytes);  // the memory goes back now
  lines_pending_ = false;
  core_->request_bytes -= request_counted_;
  request_counted_ = 0;
  if (!core_->detached && core_->handler.on_shed) {
    core_->handler.on_shed(*this, reserve());
  }
  close();
}

void ConnectionImpl::update_poll() {
  if (closing_ || box_ == nullptr || box_->closing()) return;
  int want = 0;
  if (over_global_limit() && core_->paused.emplace(id_, weak_from_this()).second) {
    static int64_t last_warn_ms = 0;
    warn_sampled(last_warn_ms, "stop reading connection " + peer_ + ": responses queued for all clients exceed " +
                                   std::to_string(core_->options.max_queued_bytes) + " bytes");
  }
  bool reading = !eof_ && !close_requested_ && !lines_pending_ && !over_limits();
  if (reading) want |= UV_READABLE;
  if (write_blocked_ && !out_.empty()) want |= UV_WRITABLE;
  if (tls_) {
    // The session may wait on the other direction than the queue's.
    if (tls_->want() == TlsSession::Want::kRead && write_blocked_ && !out_.empty()) want |= UV_READABLE;
    if (tls_->want() == TlsSession::Want::kWrite && reading) want |= UV_WRITABLE;
    // Decrypted bytes already inside the session never make the socket
    // readable: read them from the loop.
    if (reading && tls_->has_pending() && !tls_read_queued_) {
      tls_read_queued_ = true;
      core_->loop->defer([weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self) return;
        self->tls_read_queued_ = false;
        if (self->is_open()) self->on_readable();
      });
    }
  }
  if (want == events_) return;
  events_ = want;
  if (want == 0) {
    uv_poll_stop(&box_->h);
    return;
  }
  uv_poll_start(&box_->h, want, [](uv_poll_t* h, int status, int events) {
    auto* box = static_cast<PollBox*>(static_cast<HandleBox*>(h->data));
    box->conn->on_poll(status, events);
  });
}

// Buffered lines wait while the connection is over its limits. Once under,
// they are handed out from the loop rather than from inside complete(), whose
// caller does not expect on_line to run under it.
void ConnectionImpl::maybe_resume() {
  if (!lines_pending_ || in_process_ || resume_queued_ || over_limits()) return;
  resume_queued_ = true;
  core_->loop->defer([weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    self->resume_queued_ = false;
    self->process_lines();
  });
}

void ConnectionImpl::maybe_finish() {
  if (!is_open() || in_process_) return;
  bool input_done = close_requested_ || (eof_ && tail_done_);
  if (!input_done || !slots_.empty() || !out_.empty()) return;
  if (!eof_) {
    if (tls_) tls_->shutdown();
    linger_close();
    return;
  }
  abort();
}

// Lingering close: send our FIN after the last response, and read what the
// peer already sent, since closing with unread input makes the kernel send a
// RST that can destroy those responses in flight.
void ConnectionImpl::linger_close() {
  ::shutdown(fd_, SHUT_WR);
  char buf[4096];
  for (int i = 0; i < 16 && ::read(fd_, buf, sizeof buf) > 0; ++i) {
  }
  abort();
}

std::string ConnectionImpl::check_timeouts(int64_t now) {
  if (!is_open()) return "";
  const ServerOptions& o = core_->options;
  // Before the other checks: a connection closing (or refused) with output
  // its peer never reads would otherwise wait forever.
  if (o.send_timeout_ms > 0 && write_blocked_ && !out_.empty() && now - last_write_ms_ >= o.send_timeout_ms) {
    std::string why = "peer took no response bytes for " + std::to_string(o.send_timeout_ms) + " ms (" +
                      std::to_string(out_.bytes()) + " bytes queued)";
    abort();  // close() would wait for the output to leave
    return why;
  }
  if (close_requested_ || refused_) return "";
  // Complete lines waiting for room are the server's delay, not the peer's.
  bool partial = (framer_.buffered() > 0 || framer_.skipping()) && !lines_pending_;
  std::string why;
  if (o.line_timeout_ms > 0 && partial && line_start_ms_ >= 0 && now - line_start_ms_ >= o.line_timeout_ms) {
    why = "request line unfinished after " + std::to_string(o.line_timeout_ms) + " ms";
  } else if (o.idle_timeout_ms > 0 && slots_.empty() && out_.empty() && framer_.buffered() == 0 &&
             !framer_.skipping() && now - last_active_ms_ >= o.idle_timeout_ms) {
    why = "idle for " + std::to_string(o.idle_timeout_ms) + " ms";
  }
  if (why.empty()) return why;
  // The buffered part of the line is dropped with the connection; nothing is owed for it.
  close();
  return why;
}

}  // namespace kreek::net
