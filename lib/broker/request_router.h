// RequestRouter: one request line in, one response (or none, acks=0) out.
// Scans the line once (strict JSON + UTF-8), reads the envelope (op, id) and
// hands the request to its op: produce works on the scan tokens directly;
// every other op gets an nlohmann value built from those tokens (one lexing).
// Loop thread only; no sockets here, so unit tests drive it with ReplySinks.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "broker/broker_context.h"
#include "broker/reply.h"
#include "proto/json_scan.h"

namespace kreek::broker {

class RequestRouter {
 public:
  explicit RequestRouter(BrokerContext& ctx);  // `ctx` must outlive this

  // `line` excludes its '\n' and is valid only during the call. `conn`
  // identifies the connection (0: none, as in unit tests): requests after
  // one whose answer comes later (topic changes through the coordinator)
  // wait for it, so a connection's requests act in the order they were sent.
  void on_line(std::string_view line, Reply reply, std::string_view peer = {}, uint64_t conn = 0);
  // A line crossed max_request_bytes: MESSAGE_TOO_LARGE, id null (never read).
  void on_oversize(int64_t bytes_seen, Reply reply, std::string_view peer = {});
  // Says which connections hold the read-only token: their writes are
  // refused (read_only_access.h). Unset: every connection may write.
  void set_read_only_check(std::function<bool(uint64_t conn)> is_read_only) {
    is_read_only_ = std::move(is_read_only);
  }

 private:
  struct Held {
    std::string line;
    Reply reply;
    std::string peer;
  };
  // Runs one request; true if its answer comes later (the connection must
  // wait). `may_wait` false: a produce to a missing topic does not wait for
  // its creation again (it was just tried).
  bool dispatch(std::string_view line, Reply reply, std::string_view peer, uint64_t conn,
                bool may_wait = true);
  // The connection's later op finished: run what waited behind it.
  void resume(uint64_t conn);
  void release_scan_memory();

  // Tokens (20 bytes each) the reused scan may keep between requests: above
  // any produce within max.message.bytes, so the steady produce path never
  // reallocates (or trims), yet a request of millions of values is let go.
  static constexpr size_t kKeepScanTokens = 1 << 20;

  BrokerContext& ctx_;
  proto::JsonScan scan_;  // reused: no allocation per request in steady state
  std::map<uint64_t, std::deque<Held>> held_;  // connections waiting on an op, with what came after
  std::function<bool(uint64_t)> is_read_only_;
};

}  // namespace kreek::broker
