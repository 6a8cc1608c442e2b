// The net module's face: an event loop, a TCP server whose connections frame
// requests as lines and send responses in request order (buffers or zero-copy
// file ranges), outbound links and a JSON-line RPC client over them, timers,
// signals and a worker pool. Built on libuv; no libuv type appears in these
// headers, so nothing above lib/net depends on libuv directly.
// Everything here runs on the loop's thread unless a comment says otherwise.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "net/link.h"

namespace kreek::net {

class EventLoop;
class Connection;
class TlsContext;

// A byte range of an open file, sent with sendfile(2) where possible.
// `keepalive` holds whatever owns `fd` until the bytes are sent.
struct FileRange {
  int fd = -1;
  int64_t pos = 0;
  int64_t len = 0;
  std::shared_ptr<const void> keepalive;
};

// One response: bytes, then file ranges, in order.
struct Response {
  std::string head;               // usually one JSON line
  std::vector<FileRange> ranges;  // sent after head
};

// A response slot reserved when a request line arrives. Responses leave the
// connection in slot order, whenever each slot completes, so a slow request
// (a long-poll fetch, a produce waiting for fsync) holds back only what came
// after it on the same connection. A slot may be completed after its
// connection closed: the response is then dropped. A slot dropped without being
// completed is completed empty (and logged), so it cannot stall the connection.
// Copies share one slot; complete it on the loop thread.
class ResponseSlot {
 public:
  ResponseSlot() = default;
  bool valid() const { return impl_ != nullptr; }
  // Completes the slot. Must be called exactly once per reserved slot, unless
  // the slot is released with complete_empty() (acks=0 produces send nothing).
  void complete(Response r);
  void complete(std::string head) { complete(Response{std::move(head), {}}); }
  void complete_empty();
  // Completes the slot empty and closes the connection after the responses before it.
  void complete_and_close();
  // False once the peer has gone: work on its behalf can stop early.
  bool connection_open() const;

  struct Impl;
  explicit ResponseSlot(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<Impl> impl_;
};

struct ServerOptions {
  int64_t max_line_bytes = 8 << 20;  // longer lines: on_oversize, then skipped to '\n'
  int64_t max_pending_output = 64 << 20;  // stop reading a peer whose unsent output exceeds this
  // Response bytes held in memory for all connections together (unsent, or
  // waiting behind an earlier slot; file ranges cost no memory and do not
  // count). Over it, every connection holding any stops being read until the
  // sum falls back under it (0 = no limit).
  int64_t max_queued_bytes = 0;
  // Closes (dropping its output) a connection with output queued whose socket
  // has taken nothing for this long: a peer that never reads (0 = never).
  int64_t send_timeout_ms = 0;
  // Open connections at most (0 = no limit). One accepted beyond it is handed to
  // on_refused, sent that reply, and closed (a FIN, not a reset).
  size_t max_connections = 0;
  // Closes a connection that sent nothing for this long while nothing was
  // pending for it: no unfinished request (a parked long poll is one), no
  // unsent output, no partial line (0 = never).
  int64_t idle_timeout_ms = 0;
  // Closes a connection whose current request line has not ended this long
  // after its first byte arrived (a slowloris), freeing its buffer (0 = never).
  int64_t line_timeout_ms = 0;
  // Request bytes read but not yet handled (unfinished lines, and lines
  // waiting for their turn), summed over all connections. Over it, the
  // connection holding the most is sent on_shed's reply and closed, as Redis
  // evicts its biggest clients: each may hold max_line_bytes, and many such
  // connections must not take the broker's memory (0 = no limit).
  int64_t max_request_buffer_bytes = 0;
  // Set: every connection speaks TLS (net/tls.h) under the lines. The handshake
  // runs as the first reads do, so the idle and line timeouts close a peer that
  // never finishes it. A peer whose first byte cannot open a TLS handshake is
  // sent `plaintext_reply` unencrypted (when not empty) and closed.
  std::shared_ptr<const TlsContext> tls;
  std::string plaintext_reply;
};

// Callbacks for a server's connections. `line` excludes the '\n' (and a '\r'
// before it) and is valid only during the call. At end of stream an unterminated
// last line is handed to on_line as well (`printf '{...}' | nc -N` works).
// After EOF (the peer shut down its sending side) the connection closes once
// every reserved slot is completed and sent; on a read/write error it closes at once.
struct ConnectionHandler {
  std::function<void(Connection& c, std::string_view line, ResponseSlot slot)> on_line;
  // A line crossed max_line_bytes: reply (e.g. MESSAGE_TOO_LARGE) through slot;
  // the rest of the line is then discarded without buffering.
  std::function<void(Connection& c, int64_t bytes_seen, ResponseSlot slot)> on_oversize;
  // Optional. A connection over max_connections: reply through slot (e.g.
  // UNAVAILABLE); the connection reads nothing and closes once it is sent.
  std::function<void(Connection& c, ResponseSlot slot)> on_refused;
  // Optional. A connection closed over max_request_buffer_bytes: reply
  // through slot (e.g. UNAVAILABLE); its buffered request bytes are dropped.
  std::function<void(Connection& c, ResponseSlot slot)> on_shed;
  // Optional. Runs once per connection, from the loop after its socket closed
  // (never from inside complete() or close()).
  std::function<void(Connection& c)> on_close;
};

class Connection {
 public:
  virtual ~Connection() = default;
  virtual const std::string& peer() const = 0;  // "127.0.0.1:53412"
  virtual uint64_t id() const = 0;
  // Stops reading; closes once every reserved slot is completed and flushed.
  virtual void close() = 0;
};

// Destroying a Server stops accepting and stops handler callbacks; connections
// it accepted still send responses as their slots complete, then close.
class Server {
 public:
  virtual ~Server() = default;
  // The bound address with the real port ("127.0.0.1:40123" after port 0).
  virtual std::string address() const = 0;
  virtual void stop_accepting() = 0;
  // Closes every connection after flushing what they were already sent.
  virtual void close_all() = 0;
  virtual size_t connection_count() const = 0;  // counts ones still closing
  // Response bytes held in memory for all its connections (max_queued_bytes).
  virtual int64_t queued_bytes() const = 0;
};

// A timer may be restarted, stopped or destroyed from its own callback. After
// EventLoop::stop() (or once the loop is destroyed) it is inert.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void start(int64_t delay_ms, int64_t repeat_ms, std::function<void()> cb) = 0;
  virtual void stop() = 0;
};

class EventLoop {
 public:
  // Also sets SIGPIPE to ignored if it is at its default: sendfile(2) has no
  // MSG_NOSIGNAL, and a server must not die of a peer that went away.
  static std::unique_ptr<EventLoop> create();
  virtual ~EventLoop() = default;

  // "HOST:PORT" (port 0 picks one). Errors: kUnavailable "bind 127.0.0.1:9092: Address already in use".
  virtual Result<std::unique_ptr<Server>> listen(const std::string& host_port,
                                                 const ServerOptions& options,
                                                 ConnectionHandler handler) = 0;
  // Starts a nonblocking TCP connect to "HOST:PORT" (TCP_NODELAY, keepalive
  // per options) and returns at once; the outcome arrives through `handler`
  // (see link.h for the callbacks and the Link's lifetime). Every failure,
  // even a malformed address, is reported by on_closed from the loop.
  virtual std::unique_ptr<Link> connect(const std::string& host_port, const LinkOptions& options,
                                        LinkHandler handler) = 0;
  virtual std::unique_ptr<Timer> make_timer() = 0;
  // Calls `cb` on the loop thread for each delivery of `signum` (SIGINT, SIGTERM...).
  virtual void on_signal(int signum, std::function<void(int)> cb) = 0;
  // Runs `work` on a worker thread, then `done` on the loop thread.
  virtual void queue_work(std::function<void()> work, std::function<void()> done) = 0;
  // Runs until stop() and every handle is closed. Returns 0 when the loop closed cleanly.
  virtual int run() = 0;
  // Closes every handle: listeners, connections (unsent output is dropped),
  // links (each gets on_closed(kUnavailable) from the loop), timers, signal
  // watchers. Queued work still finishes and its `done` runs. Final: nothing
  // new opens afterwards (listen fails, new timers and links are inert).
  // Objects created from the loop may outlive it; they become inert.
  virtual void stop() = 0;
};

// Splits "host:port" ("[::1]:9092" for IPv6). kInvalidRequest on a bad form.
Status parse_host_port(std::string_view text, std::string& host, int& port);

}  // namespace kreek::net

// The JSON-line request/response client over a Link; it needs EventLoop, so it
// comes after it.
#include "net/rpc_client.h"
