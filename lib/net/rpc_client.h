// RpcClient: kreek's JSON-line request/response style over one Link. Requests
// are pipelined; kreek servers answer in request order on a connection, so the
// n-th response line belongs to the n-th call, and the "id" it carries back is
// checked against it. A fetch-style call can take raw bytes after its response
// line. Lines in, lines out: parsing the JSON is the caller's business.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/net.h"

namespace kreek::net {

struct RpcOptions {
  LinkOptions link;
  // Per-call deadline unless a call names its own; <= 0: calls wait forever.
  int64_t call_timeout_ms = 30000;
  // Insert "id":N (N = 1, 2, ...) as the first member of every request object
  // and check that each response's top-level "id" is its call's (a response
  // with no id, or "id":null, is accepted: servers answer a request they
  // could not parse that way). False: requests go out exactly as given.
  bool assign_ids = true;
};

// Everything runs on the loop thread. Callback rules:
// - call()/call_raw() either return an error and never call back, or return
//   OK and call back exactly once (a raw call: on_header once, then on_raw
//   until `last`), never from inside call(), close() or the destructor.
// - A failed call gets kTimeout (it passed its deadline), kProtocol (its
//   response carried another call's id) or kUnavailable (the link closed or a
//   call ahead of it failed).
// - When a call times out the link is closed and every other pending call
//   fails with kUnavailable: its response may still come, and responses are
//   matched by order only, so nothing after it could be trusted.
// - on_closed runs once, after every pending call has failed, with the
//   reason: OK after close(), the link's failure (see LinkHandler::on_closed),
//   or the call's kTimeout/kProtocol status. Make a new RpcClient to reconnect.
// - The RpcClient may be destroyed at any time, also from inside any of its
//   callbacks; destroying it closes the link, and no callback runs afterwards
//   (pending calls are dropped without being called back).
class RpcClient {
 public:
  // The response line (without '\n'), valid only during the call, or why the
  // call failed.
  using Callback = std::function<void(Result<std::string_view> response)>;

  // A call whose response line may be followed by raw bytes (a fetch).
  struct RawCall {
    // The response line or the failure. Returns how many raw bytes follow the
    // line (0: none, the call is done). A negative return means the header made
    // no sense: the stream can no longer be framed, so the link closes
    // (kProtocol) and later calls fail.
    std::function<int64_t(Result<std::string_view> header)> on_header;
    // The raw bytes, in chunks of at most 64 KiB, `last` on the final one. If
    // the link fails before the last byte, one error with last=true ends it.
    std::function<void(Result<std::string_view> chunk, bool last)> on_raw;
  };

  // Starts connecting at once. Calls may be made before the link is up: they
  // wait in its output queue. `on_closed` may be empty.
  RpcClient(EventLoop& loop, const std::string& host_port, RpcOptions options = {},
            std::function<void(Status)> on_closed = {});
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  // Sends one request line (a JSON object; a trailing '\n' is optional, any
  // other newline is kInvalidRequest). With assign_ids it must not contain a
  // top-level "id". timeout_ms: -1 uses options.call_timeout_ms, 0 none.
  // Errors, with no callback: kInvalidRequest, kUnavailable (link closed or
  // closing, or its output queue is full: that also closes it).
  Status call(std::string request, Callback done, int64_t timeout_ms = -1);
  // As call(); the deadline covers the header and all its raw bytes.
  Status call_raw(std::string request, RawCall handlers, int64_t timeout_ms = -1);

  // Closes the link; pending calls fail with kUnavailable from the loop, then
  // on_closed(OK) runs.
  void close();

  const std::string& peer() const { return link_->peer(); }
  bool is_open() const { return !closed_ && link_->is_open(); }
  bool is_connected() const { return !closed_ && link_->is_connected(); }
  // Calls sent and not yet answered (including one receiving raw bytes).
  size_t in_flight() const { return pending_.size() + (raw_current_ ? 1 : 0); }

 private:
  struct Call {
    uint64_t id = 0;
    int64_t deadline_ms = 0;  // 0: none
    Callback done;            // a plain call
    RawCall raw;              // a raw call (when is_raw)
    bool is_raw = false;
  };

  Status submit(std::string request, Call c, int64_t timeout_ms);
  void on_line(std::string_view line);
  void on_raw(std::string_view chunk, bool last);
  void on_link_closed(Status why);
  void on_timer();
  // Closes the link and fails every pending call: the call numbered `head_id`
  // gets `head_status`, the others kUnavailable with `why`'s message.
  void fail_all(Status why, uint64_t head_id, Status head_status);
  void forget_deadline(int64_t deadline_ms);
  void rearm();

  RpcOptions options_;
  std::function<void(Status)> on_closed_;
  std::unique_ptr<Timer> timer_;
  std::unique_ptr<Link> link_;
  std::deque<Call> pending_;          // sent, awaiting their response line, in order
  std::optional<Call> raw_current_;   // answered, receiving its raw bytes
  std::multiset<int64_t> deadlines_;  // of every call above that has one
  int64_t armed_ms_ = 0;              // the deadline the timer is set for; 0: none
  uint64_t next_id_ = 1;
  bool closed_ = false;               // calls fail from now on
  std::optional<Status> why_;         // first reason for closing, for on_closed
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed
};

}  // namespace kreek::net
