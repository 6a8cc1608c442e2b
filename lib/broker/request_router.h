// RequestRouter: one request line in, one response (or none, acks=0) out.
// Scans the line once (strict JSON + UTF-8), reads the envelope (op, id) and
// hands the request to its op: produce works on the scan tokens directly;
// every other op parses the (already validated) line with nlohmann.
// Loop thread only; no sockets here, so unit tests drive it with ReplySinks.
#pragma once

#include <cstdint>
#include <string_view>

#include "broker/broker_context.h"
#include "broker/reply.h"
#include "proto/json_scan.h"

namespace kreek::broker {

class RequestRouter {
 public:
  explicit RequestRouter(BrokerContext& ctx) : ctx_(ctx) {}  // `ctx` must outlive this

  // `line` excludes its '\n' and is valid only during the call.
  void on_line(std::string_view line, Reply reply, std::string_view peer = {});
  // A line crossed max_request_bytes: MESSAGE_TOO_LARGE, id null (never read).
  void on_oversize(int64_t bytes_seen, Reply reply, std::string_view peer = {});

 private:
  BrokerContext& ctx_;
  proto::JsonScan scan_;  // reused: no allocation per request in steady state
};

}  // namespace kreek::broker
