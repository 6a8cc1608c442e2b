// Reply: where a request's answer goes. In the server it wraps the connection's
// net::ResponseSlot (responses leave in request order); in unit tests it wraps a
// ReplySink that just records what would have been sent. Exactly one of send()
// or send_nothing() must be called per request.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "broker/metrics.h"
#include "net/net.h"

namespace kreek::broker {

// What tests read back: one entry per finished request (nullopt = no line, acks=0).
struct ReplySink {
  std::vector<std::optional<net::Response>> replies;
  bool open = true;
};

class Reply {
 public:
  Reply() = default;
  explicit Reply(net::ResponseSlot slot) : slot_(std::move(slot)) {}
  explicit Reply(std::shared_ptr<ReplySink> sink) : sink_(std::move(sink)) {}

  // The answer's latency goes to `op` (since `start_us`, steady_us()).
  void track(OpStats* op, int64_t start_us) {
    op_ = op;
    start_us_ = start_us;
  }

  void send(net::Response r) {
    observed();
    if (sink_) {
      sink_->replies.emplace_back(std::move(r));
    } else {
      slot_.complete(std::move(r));
    }
  }
  void send(std::string line) { send(net::Response{std::move(line), {}}); }
  // Releases the slot without a response (acks=0 produce).
  void send_nothing() {
    observed();
    if (sink_) {
      sink_->replies.emplace_back(std::nullopt);
    } else {
      slot_.complete_empty();
    }
  }
  // Releases the slot without a response and closes the connection once the
  // responses before it are sent (a stale leader's acks=0 produce).
  void close_connection() {
    observed();
    if (sink_) {
      sink_->replies.emplace_back(std::nullopt);
      sink_->open = false;
    } else {
      slot_.complete_and_close();
    }
  }
  // False once the peer has gone; parked work on its behalf can be dropped.
  bool open() const { return sink_ ? sink_->open : slot_.connection_open(); }

 private:
  void observed() {
    observe_request(op_, start_us_);
    op_ = nullptr;
  }

  net::ResponseSlot slot_;
  std::shared_ptr<ReplySink> sink_;
  OpStats* op_ = nullptr;  // the registry outlives every reply (BrokerContext owns it)
  int64_t start_us_ = 0;
};

}  // namespace kreek::broker
