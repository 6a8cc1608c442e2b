// BrokerConnection: one blocking TCP connection to a broker, speaking JSON lines.
// Requests may be pipelined (write several, then read their responses in order);
// fetch responses are a header line followed by exactly `bytes` raw bytes per
// part, so reads come in two shapes: read_line() and read_exact(n). With a
// TLS context set, the same happens inside TLS (the socket then stays nonblocking).
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kreek::net {
class TlsContext;
class TlsSession;
}  // namespace kreek::net

namespace kreek::client {

// "HOST:PORT" -> host and port. Errors: kInvalidRequest naming the address.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
Result<HostPort> parse_host_port(std::string_view addr);

inline constexpr int kDefaultConnectTimeoutMs = 5000;
// Longest reply line read_line() accepts: twice the largest request line
// (proto::kDefaultMaxRequestBytes). No reply a broker builds comes near it;
// a peer that sends more without a newline is not speaking the protocol.
inline constexpr size_t kMaxReplyLineBytes = 16 << 20;
// Largest read_exact(): a fetch's largest max_bytes plus one batch, which is
// no larger than the request line that carried it.
inline constexpr size_t kMaxReadExactBytes = (64 << 20) + (8 << 20);

// The shared secret connect() sends in a hello before anything else, for
// brokers started with --auth-token-file ("" sends no hello). Set once at
// start (cli::client_options does, from --auth-token-file).
void set_auth_token(std::string token);
// The CA context connect() verifies brokers with (null: plain TCP). Set once
// at start (cli::client_options does, from --tls-ca or $KREEK_TLS_CA_FILE).
void set_tls_context(std::shared_ptr<const net::TlsContext> ctx);
std::shared_ptr<const net::TlsContext> tls_context();

class BrokerConnection {
 public:
  // Takes over a connected socket (a socketpair end in tests); closes it when destroyed.
  static std::unique_ptr<BrokerConnection> adopt(int fd, std::string addr);
  // Connects with a timeout (non-blocking connect + poll), then switches the
  // socket to blocking mode with TCP_NODELAY; with an auth token set, sends
  // the hello and waits for its answer. Errors: kUnavailable
  // "cannot connect to 127.0.0.1:9092: Connection refused"; kUnauthorized
  // "127.0.0.1:9092 refused the auth token: wrong auth token". With TLS the
  // handshake finishes within the timeout too: kUnauthorized "tls handshake with
  // 127.0.0.1:9092: certificate verify failed: ..." when the broker's certificate
  // does not verify or name the address, else kUnavailable.
  static Result<std::unique_ptr<BrokerConnection>> connect(const std::string& addr,
                                                           int timeout_ms = kDefaultConnectTimeoutMs);
  ~BrokerConnection();
  BrokerConnection(const BrokerConnection&) = delete;
  BrokerConnection& operator=(const BrokerConnection&) = delete;

  const std::string& address() const { return addr_; }
  int fd() const { return fd_; }
  bool is_broken() const { return broken_; }
  // After a reply that is not protocol: the stream cannot be trusted any more.
  void mark_broken() { broken_ = true; }
  // Whether a well-formed reply has come on this connection yet (see reply.h).
  bool has_answered() const { return answered_; }
  void note_answer() { answered_ = true; }

  // Writes every byte (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
  Status write_all(std::string_view bytes);
  Status writev_all(struct iovec* iov, int count);

  // Blocks for one '\n'-terminated line (returned without "\n" or "\r\n").
  // The view is valid until the next read call. timeout_ms < 0 waits forever.
  // Errors: kUnavailable when the peer closes, kTimeout at the deadline,
  // kTimeout "interrupted" when a signal arrived and client::stop_requested(),
  // kProtocol when more than kMaxReplyLineBytes arrive without a newline.
  Result<std::string_view> read_line(int timeout_ms = -1);
  // Blocks for exactly n bytes; the view is valid until the next read call.
  // n above kMaxReadExactBytes is kProtocol (callers bound it more tightly).
  Result<std::string_view> read_exact(size_t n, int timeout_ms = -1);

  // Non-blocking helpers for callers that poll() several fds themselves.
  // A complete line already in the buffer, if any (consumed when returned).
  bool next_buffered_line(std::string_view& line);
  // One recv() of whatever is available; call when poll() said POLLIN, or when
  // has_pending_input(). Under TLS it may take nothing (a partial record).
  Status read_available();
  // TLS: decrypted bytes wait inside the session, and poll() will not report
  // them. Callers that poll fd() must read when this is true.
  bool has_pending_input() const;

 private:
  BrokerConnection(int fd, std::string addr);
  // The TLS handshake, within `deadline_ms` (monotonic).
  Status start_tls(const net::TlsContext& ctx, const std::string& host, int64_t deadline_ms);
  // Waits until the session can go on in the direction it asked for.
  Status wait_tls(int64_t deadline_ms);
  // The hello with the auth token, if one is set (connect()).
  Status authenticate(int timeout_ms);
  // Receives more bytes into buf_, waiting up to timeout_ms.
  Status fill(int timeout_ms);
  void compact();
  Status fail(Status s);

  int fd_ = -1;
  std::string addr_;
  std::unique_ptr<net::TlsSession> tls_;
  bool broken_ = false;
  bool answered_ = false;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  size_t start_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last received byte
  size_t scan_ = 0;   // bytes [start_, scan_) are known to hold no '\n'
};

}  // namespace kreek::client
