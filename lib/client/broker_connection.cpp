// BrokerConnection: blocking socket I/O with a growable read buffer.
// Timeouts and signals are handled with poll() before each recv(), so a
// SIGINT during a long-poll fetch returns promptly instead of restarting.
#include "client/broker_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/clock.h"
#include "client/interrupt.h"
#include "client/reply.h"
#include "net/tls.h"
#include "proto/auth_token.h"
#include "proto/message.h"

namespace kreek::client {
namespace {

constexpr size_t kInitialBuffer = 256 << 10;

Status unavailable(const std::string& addr, std::string_view why) {
  return Status(Code::kUnavailable, "cannot connect to " + addr + ": " + std::string(why));
}

// Waits until fd is ready for `events`; returns kTimeout at the deadline and
// "interrupted" when a signal asked the process to stop.
Status wait_fd(int fd, short events, int64_t deadline_ms) {
  for (;;) {
    int timeout = -1;
    if (deadline_ms >= 0) {
      int64_t left = deadline_ms - clock::monotonic_ms();
      if (left < 0) left = 0;
      timeout = static_cast<int>(left);
    }
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, timeout);
    if (r > 0) return Status::ok();
    if (r == 0) return Status(Code::kTimeout, "timed out waiting for broker");
    if (errno != EINTR) return errno_status("poll", "", errno);
    if (stop_aborts_io()) return Status(Code::kTimeout, "interrupted");
  }
}

}  // namespace

Result<HostPort> parse_host_port(std::string_view addr) {
  size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == addr.size())
    return invalid_request("bad broker address \"" + std::string(addr) + "\": want HOST:PORT");
  HostPort hp;
  hp.host = std::string(addr.substr(0, colon));
  if (hp.host.size() > 2 && hp.host.front() == '[' && hp.host.back() == ']')
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  unsigned long port = 0;
  for (char c : addr.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535)
      return invalid_request("bad broker address \"" + std::string(addr) + "\": bad port");
    port = port * 10 + static_cast<unsigned long>(c - '0');
  }
  if (port == 0 || port > 65535)
    return invalid_request("bad broker address \"" + std::string(addr) + "\": bad port");
  hp.port = static_cast<uint16_t>(port);
  return hp;
}

Result<std::unique_ptr<BrokerConnection>> BrokerConnection::connect(const std::string& addr,
                                                                    int timeout_ms) {
  KREEK_ASSIGN_OR_RETURN(HostPort hp, parse_host_port(addr));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(hp.port);
  int gai = ::getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &res);
  if (gai != 0) return unavailable(addr, ::gai_strerror(gai));

  int64_t deadline = clock::monotonic_ms() + timeout_ms;
  Status last = unavailable(addr, "no address");
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
      last = unavailable(addr, std::strerror(errno));
      continue;
    }
    int err = 0;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        Status w = wait_fd(fd, POLLOUT, deadline);
        if (!w.is_ok()) {
          ::close(fd);
          last = w.message() == "interrupted" ? w : unavailable(addr, "Connection timed out");
          continue;
        }
        socklen_t len = sizeof(err);
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      }
    }
    if (err != 0) {
      ::close(fd);
      last = unavailable(addr, std::strerror(err));
      continue;
    }
    std::shared_ptr<const net::TlsContext> tls = tls_context();
    // Under TLS the socket stays nonblocking: the session's reads and writes
    // wait with poll(), so a record split across packets cannot block a read.
    if (!tls) {
      int flags = ::fcntl(fd, F_GETFL);
      ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::freeaddrinfo(res);
    std::unique_ptr<BrokerConnection> conn(new BrokerConnection(fd, addr));
    if (tls) KREEK_RETURN_IF_ERROR(conn->start_tls(*tls, hp.host, deadline));
    KREEK_RETURN_IF_ERROR(conn->authenticate(std::max(1, static_cast<int>(deadline - clock::monotonic_ms()))));
    return conn;
  }
  ::freeaddrinfo(res);
  return last;
}

namespace {
std::string& auth_token() {
  static std::string token;
  return token;
}
}  // namespace

void set_auth_token(std::string token) { auth_token() = std::move(token); }

namespace {
std::shared_ptr<const net::TlsContext>& tls_slot() {
  static std::shared_ptr<const net::TlsContext> ctx;
  return ctx;
}
}  // namespace

std::shared_ptr<const net::TlsContext> tls_context() { return tls_slot(); }
void set_tls_context(std::shared_ptr<const net::TlsContext> ctx) { tls_slot() = std::move(ctx); }

BrokerConnection::BrokerConnection(int fd, std::string addr) : fd_(fd), addr_(std::move(addr)) {}

Status BrokerConnection::wait_tls(int64_t deadline_ms) {
  short events = tls_->want() == net::TlsSession::Want::kWrite ? POLLOUT : POLLIN;
  return wait_fd(fd_, events, deadline_ms);
}

Status BrokerConnection::start_tls(const net::TlsContext& ctx, const std::string& host, int64_t deadline_ms) {
  tls_ = net::TlsSession::connect(ctx, fd_, host);
  if (!tls_) return fail(Status(Code::kInternal, "tls session for " + addr_ + ": out of memory"));
  for (;;) {
    int rc = tls_->handshake();
    if (rc == 1) return Status::ok();
    if (rc < 0) {
      // A certificate that does not verify will not start verifying on a
      // retry: that is a refusal, like a wrong auth token.
      Code code = tls_->verify_failed() ? Code::kUnauthorized : Code::kUnavailable;
      return fail(Status(code, "tls handshake with " + addr_ + ": " + tls_->error()));
    }
    Status w = wait_tls(deadline_ms);
    if (!w.is_ok()) {
      if (w.message() == "interrupted") return fail(w);
      // A plain-text broker waits for a line that never comes.
      return fail(Status(Code::kUnavailable, "tls handshake with " + addr_ +
                                                 ": no answer (does the broker listen with --tls-cert?)"));
    }
  }
}

bool BrokerConnection::has_pending_input() const { return tls_ && tls_->has_pending(); }

Status BrokerConnection::authenticate(int timeout_ms) {
  if (auth_token().empty()) return Status::ok();
  std::string hello = proto::auth_hello_request(auth_token());
  hello.insert(1, R"("id":0,)");
  hello += '\n';
  KREEK_RETURN_IF_ERROR(write_all(hello));
  KREEK_ASSIGN_OR_RETURN(std::string_view line, read_line(timeout_ms));
  KREEK_ASSIGN_OR_RETURN(proto::Json answer, proto::parse_response(line));
  Status s = proto::response_status(answer);
  if (s.code() == Code::kUnauthorized)
    return Status(Code::kUnauthorized, addr_ + " refused the auth token: " + s.message());
  if (!s.is_ok()) return s.with_context(addr_ + " hello");
  note_answer();
  return Status::ok();
}

std::unique_ptr<BrokerConnection> BrokerConnection::adopt(int fd, std::string addr) {
  return std::unique_ptr<BrokerConnection>(new BrokerConnection(fd, std::move(addr)));
}

BrokerConnection::~BrokerConnection() {
  if (fd_ >= 0) ::close(fd_);
}

Status BrokerConnection::fail(Status s) {
  broken_ = true;
  return s;
}

Status BrokerConnection::write_all(std::string_view bytes) {
  while (tls_ && !bytes.empty()) {
    ssize_t n = tls_->write(bytes.data(), bytes.size());
    if (n < 0) {
      if (errno != EAGAIN) return fail(Status(Code::kUnavailable, "send to " + addr_ + ": " + tls_->error()));
      Status w = wait_tls(-1);
      if (!w.is_ok()) return fail(w);
      continue;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Status(Code::kUnavailable, "send to " + addr_ + ": " + std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

Status BrokerConnection::writev_all(struct iovec* iov, int count) {
  if (tls_) {
    // One TLS write of the whole run: records hold 16 KiB either way.
    std::string all;
    for (int i = 0; i < count; ++i) all.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
    return write_all(all);
  }
  while (count > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Status(Code::kUnavailable, "send to " + addr_ + ": " + std::strerror(errno)));
    }
    size_t left = static_cast<size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return Status::ok();
}

void BrokerConnection::compact() {
  if (start_ == 0) return;
  size_t live = end_ - start_;
  if (live > 0) std::memmove(buf_.get(), buf_.get() + start_, live);
  scan_ -= start_;
  start_ = 0;
  end_ = live;
}

Status BrokerConnection::read_available() {
  if (broken_) return Status(Code::kUnavailable, "connection to " + addr_ + " is closed");
  if (!buf_) {
    cap_ = kInitialBuffer;
    buf_.reset(new char[cap_]);
  }
  if (start_ == end_) {
    start_ = end_ = scan_ = 0;
  } else if (end_ == cap_ || start_ > cap_ / 2) {
    compact();
  }
  if (end_ == cap_) {  // a single line larger than the buffer: grow it, within bounds
    if (end_ - start_ >= kMaxReplyLineBytes)
      return fail(Status(Code::kProtocol, "reply line from " + addr_ + " exceeds " +
                                              std::to_string(kMaxReplyLineBytes) + " bytes"));
    size_t ncap = cap_ * 2;
    std::unique_ptr<char[]> nb(new char[ncap]);
    std::memcpy(nb.get(), buf_.get(), end_);
    buf_ = std::move(nb);
    cap_ = ncap;
  }
  for (;;) {
    ssize_t n = tls_ ? tls_->read(buf_.get() + end_, cap_ - end_) : ::recv(fd_, buf_.get() + end_, cap_ - end_, 0);
    if (n < 0 && tls_ && errno == EAGAIN) return Status::ok();  // the rest of a record is on its way
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      return Status::ok();
    }
    if (n == 0) {
      if (!answered_ && end_ > start_)  // it said something, never a reply line, and left
        return fail(Status(Code::kProtocol, addr_ + " is not a kreek broker (it answered \"" +
                                                printable_sample(std::string_view(buf_.get() + start_,
                                                                                  end_ - start_)) +
                                                "\" and closed the connection)"));
      return fail(Status(Code::kUnavailable, "connection to " + addr_ + " closed by broker"));
    }
    if (errno == EINTR) {
      if (stop_aborts_io()) return Status(Code::kTimeout, "interrupted");
      continue;
    }
    return fail(Status(Code::kUnavailable, "recv from " + addr_ + ": " + (tls_ ? tls_->error() : std::strerror(errno))));
  }
}

Status BrokerConnection::fill(int timeout_ms) {
  int64_t deadline = timeout_ms < 0 ? -1 : clock::monotonic_ms() + timeout_ms;
  if (has_pending_input()) return read_available();
  Status w = tls_ ? wait_tls(deadline) : wait_fd(fd_, POLLIN, deadline);
  if (!w.is_ok()) return w;
  return read_available();
}

bool BrokerConnection::next_buffered_line(std::string_view& line) {
  if (scan_ < start_) scan_ = start_;
  const char* base = buf_.get();
  const void* nl = scan_ < end_ ? std::memchr(base + scan_, '\n', end_ - scan_) : nullptr;
  if (nl == nullptr) {
    scan_ = end_;
    return false;
  }
  size_t pos = static_cast<size_t>(static_cast<const char*>(nl) - base);
  size_t len = pos - start_;
  if (len > 0 && base[pos - 1] == '\r') --len;
  line = std::string_view(base + start_, len);
  start_ = scan_ = pos + 1;
  return true;
}

Result<std::string_view> BrokerConnection::read_line(int timeout_ms) {
  std::string_view line;
  for (;;) {
    if (buf_ && next_buffered_line(line)) return line;
    KREEK_RETURN_IF_ERROR(fill(timeout_ms));
  }
}

Result<std::string_view> BrokerConnection::read_exact(size_t n, int timeout_ms) {
  if (n > kMaxReadExactBytes)
    return fail(Status(Code::kProtocol, "reply from " + addr_ + " announces " + std::to_string(n) +
                                            " bytes, more than the " + std::to_string(kMaxReadExactBytes) +
                                            " a reply may carry"));
  if (!buf_) {
    cap_ = kInitialBuffer;
    buf_.reset(new char[cap_]);
  }
  if (end_ - start_ < n) {
    // Make room for the whole part in one contiguous span before reading.
    compact();
    if (cap_ < n) {
      size_t ncap = cap_;
      while (ncap < n) ncap *= 2;
      std::unique_ptr<char[]> nb(new char[ncap]);
      std::memcpy(nb.get(), buf_.get(), end_);
      buf_ = std::move(nb);
      cap_ = ncap;
    }
    while (end_ - start_ < n) KREEK_RETURN_IF_ERROR(fill(timeout_ms));
  }
  std::string_view out(buf_.get() + start_, n);
  start_ += n;
  if (scan_ < start_) scan_ = start_;
  return out;
}

}  // namespace kreek::client
