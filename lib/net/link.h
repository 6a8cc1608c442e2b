// Link: one outbound TCP connection made from the event loop without blocking
// it (a broker to the coordinator, a follower to its leader). Reads frame
// '\n'-terminated lines, with a raw byte mode for payloads that follow a header
// line; writes are queued and leave in batches. Included through net/net.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kreek::net {

class TlsContext;

struct LinkOptions {
  int64_t connect_timeout_ms = 5000;     // <= 0: wait as long as the kernel does
  int64_t max_line_bytes = 8 << 20;      // a longer line closes the link (kMessageTooLarge)
  int64_t max_pending_output = 64 << 20; // send() past this fails and closes the link
  // TCP keepalive: first probe after this many idle seconds (<= 0: no keepalive).
  // It finds peers that vanished without a FIN; it is no request timeout.
  int keepalive_idle_s = 60;
  // Set (a client context, net/tls.h): the link speaks TLS and the peer's
  // certificate must verify against its CA and name the host dialed. A failed
  // handshake closes the link with kUnavailable ("tls handshake with HOST:PORT: ...").
  std::shared_ptr<const TlsContext> tls;
};

// Callbacks run on the loop thread, never from inside a Link method. Views are
// valid only during the call. Any of them may be left empty.
struct LinkHandler {
  // The TCP handshake finished; bytes sent earlier are on their way.
  std::function<void()> on_connected;
  // One line, without its '\n' (and a '\r' before it).
  std::function<void(std::string_view line)> on_line;
  // Bytes of a region announced with Link::expect_raw(), in arrival order and
  // in chunks of at most one read (64 KiB), `last` on the chunk that ends it.
  std::function<void(std::string_view chunk, bool last)> on_raw;
  // Exactly once per link (unless the Link object was destroyed first), from the
  // loop after the socket closed, as the last callback:
  //   OK                  close() was called
  //   kUnavailable        connect refused or failed, peer closed (EOF, even
  //                       inside a raw region; an unterminated last line is
  //                       dropped), read or write error,
  //                       send() over max_pending_output, EventLoop::stop()
  //   kTimeout            connect_timeout_ms passed before the handshake
  //   kMessageTooLarge    the peer sent a line over max_line_bytes
  //   kInvalidRequest     host_port did not parse
  // Messages name the link: "connect 127.0.0.1:9092: Connection refused".
  std::function<void(Status why)> on_closed;
};

// Made by EventLoop::connect(). Lifetime rules, matching Timer and Connection:
// - The Link may be destroyed at any time, also from inside its own callbacks.
//   Destroying it closes the socket (dropping unsent output) and no callback
//   runs afterwards, not even on_closed; the callback running at that moment
//   finishes normally, and later buffered lines are dropped.
// - After on_closed the Link is inert: send() returns false, other calls do
//   nothing. Reconnecting means a new Link.
// - EventLoop::stop() closes every link (on_closed then reports kUnavailable,
//   from the loop). A Link may outlive its EventLoop; it is then inert.
// - Once the loop is stopping, connect() returns a Link that is already closed
//   and never calls back: nothing would be left to run the callbacks.
// Limitation: a host name (not an IP literal) is resolved with a blocking
// getaddrinfo on the loop thread; kreek passes numeric addresses.
class Link {
 public:
  virtual ~Link() = default;

  // The address given to connect() ("127.0.0.1:9092").
  virtual const std::string& peer() const = 0;
  // True from on_connected until the link starts closing.
  virtual bool is_connected() const = 0;
  // False once the link started closing (error, close(), stop()).
  virtual bool is_open() const = 0;

  // Queues bytes to write. Allowed before on_connected: they leave once the
  // handshake finishes. Bytes queued in one loop iteration leave together (one
  // sendmsg per 1024 buffers); from inside this link's callbacks, at the end
  // of the batch of input, otherwise at the next writability report.
  // Returns false if the link is not open, or if the queue would exceed
  // max_pending_output: the link then closes (kUnavailable), since the peer
  // is not reading and a request silently dropped would break ordering.
  virtual bool send(std::string bytes) = 0;
  // Unsent bytes still queued.
  virtual int64_t pending_output() const = 0;

  // The next `n` bytes of input are raw: they go to on_raw, not on_line, then
  // line mode resumes (bytes already read past the region become lines again).
  // Typically called from on_line with a header's byte count; calling it again
  // before the region ends extends the region. n <= 0 does nothing.
  virtual void expect_raw(int64_t n) = 0;
  // Raw bytes still expected.
  virtual int64_t raw_remaining() const = 0;

  // Closes the socket, dropping unsent output; on_closed(OK) follows from the
  // loop (never from inside close()). No on_line/on_raw runs after close().
  virtual void close() = 0;
};

}  // namespace kreek::net
