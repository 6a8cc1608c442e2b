// Internal to lib/net: one accepted TCP connection on a raw nonblocking socket
// watched by a uv_poll_t. Reads frame lines (LineFramer), each line reserves a
// ResponseSlot, and completed slots leave in order through an OutputQueue.
// On a TLS listener the same happens through a TlsSession.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "net/line_framer.h"
#include "net/net.h"
#include "net/output_queue.h"
#include "net/tcp_server.h"
#include "net/tls.h"

namespace kreek::net {

// A connection stops reading while this many requests await a response
// (pipelining beyond it gains nothing and costs memory).
inline constexpr size_t kMaxUncompletedSlots = 1024;
inline constexpr size_t kReadChunk = 64 << 10;
// Work one connection may do per loop turn before the others get theirs: this
// many request lines, or this much time, whichever comes first. The rest of
// its buffered lines run on the next turn (Redis and NGINX bound a client's
// turn the same way), so one pipelining client cannot starve the others.
inline constexpr int kLinesPerTurn = 64;
inline constexpr int64_t kTurnBudgetUs = 2000;

class ConnectionImpl final : public Connection, public std::enable_shared_from_this<ConnectionImpl> {
 public:
  ConnectionImpl(std::shared_ptr<ServerCore> core, int fd, std::string peer);
  ~ConnectionImpl() override;

  // Opens the poll handle, registers with the server and starts reading.
  // False if libuv refused the socket (the fd is then closed with this object).
  // `refuse`: over max_connections; reads nothing, sends on_refused's reply, closes.
  bool start(bool refuse = false);

  const std::string& peer() const override { return peer_; }
  uint64_t id() const override { return id_; }
  void close() override;

  // Closes at once, dropping unsent output (errors, resets, loop stop).
  void abort();
  bool is_open() const;
  // From ResponseSlot: `seq` was reserved by this connection.
  void complete(uint64_t seq, Response r);
  // Closes the connection if it is past its idle or line timeout at `now`
  // (monotonic ms) and says why ("idle for 600000 ms"); "" if it stays open.
  std::string check_timeouts(int64_t now);
  // The server's queued bytes fell under max_queued_bytes: read again if this
  // connection may (it pauses and registers again if not).
  void resume_reading() { after_progress(); }

 private:
  struct PollBox;
  struct Pending {
    bool done = false;
    Response response;
  };

  void on_poll(int status, int events);
  void on_readable();
  void process_lines();
  ResponseSlot reserve();
  void flush();
  void after_progress();
  void update_poll();
  void maybe_resume();
  void maybe_finish();
  // FIN, a short drain of what the peer sent, then abort() (no reset under the last reply).
  void linger_close();
  bool over_limits() const;
  bool over_global_limit() const;
  // Brings core_->queued_bytes up to date with what this connection holds.
  void account();
  // The same for core_->request_bytes; then, over max_request_buffer_bytes,
  // sheds the connection holding the most (perhaps this one).
  void account_request(bool may_shed = true);
  // Drops the buffered request bytes, sends on_shed's reply and closes.
  void shed();
  void handle_closed();
  // TLS: a first byte that cannot open a handshake gets the plain-text reply and a close.
  // False once the connection is closing (or the byte has not come yet).
  bool check_first_byte();
  void read_error(ssize_t n);

  std::shared_ptr<ServerCore> core_;
  int fd_;
  uint64_t id_;
  std::string peer_;
  PollBox* box_ = nullptr;  // null before start() and once the handle closed
  LineFramer framer_;
  OutputQueue out_;
  std::deque<Pending> slots_;  // reserved, not yet sent; front has seq first_seq_
  uint64_t first_seq_ = 0;
  uint64_t next_seq_ = 0;
  int64_t held_bytes_ = 0;     // completed responses waiting behind an earlier slot
  int events_ = 0;             // what the poll handle watches now
  bool eof_ = false;           // the peer shut down its sending side
  bool tail_done_ = false;     // after eof_: every buffered line was handed out
  bool close_requested_ = false;
  bool closing_ = false;       // abort() ran: output dropped, handle closing
  bool write_blocked_ = false; // the socket took less than we had
  bool lines_pending_ = false; // reading paused with complete lines still buffered
  bool in_process_ = false;
  bool resume_queued_ = false;
  bool refused_ = false;        // over max_connections: not counted in core_->served
  bool lines_seen_ = false;     // a line was handed out since the last read
  int64_t last_active_ms_ = 0;  // last bytes read or response completed
  int64_t line_start_ms_ = -1;  // when the unfinished line began; -1 when none
  int64_t held_mem_ = 0;        // the in-memory part of held_bytes_ (response heads)
  int64_t counted_ = 0;         // what this connection adds to core_->queued_bytes
  int64_t request_counted_ = 0; // what it adds to core_->request_bytes
  int64_t last_write_ms_ = 0;   // last time the socket took bytes, or output began queueing
  std::unique_ptr<TlsSession> tls_;  // null on a plain listener
  bool first_byte_seen_ = false;     // TLS: the plain-text check is done
  bool tls_read_queued_ = false;     // TLS: a read of decrypted bytes is deferred to the loop
};

}  // namespace kreek::net
