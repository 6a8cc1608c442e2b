// OutageNotice: says once that a client has started waiting for a broker and
// once that it can talk to the cluster again, however many retries lie in
// between, so a 30 s outage costs two lines on stderr, not one per retry.
// The words are the caller's (lib/ leaves policy to callers); this only keeps
// the state and builds the "waiting for broker ..." text.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"

namespace kreek::client {

// "waiting for broker 127.0.0.1:9092 (Connection refused)" from a connection
// error such as "cannot connect to 127.0.0.1:9092: Connection refused";
// "waiting for broker (<message>)" when the message names no broker.
std::string waiting_message(const Status& why);

// Whether `code` means the broker itself is out of reach (as opposed to a
// leader moving, NOT_LEADER, which is retried without a notice).
bool is_outage(Code code);

class OutageNotice {
 public:
  std::function<void(const std::string&)> on_waiting;  // gets waiting_message(why)
  std::function<void()> on_recovered;

  // A request failed for `why`: the first failed dial (or timeout) since the
  // last recovery announces the wait. A broken connection alone, and failures
  // that are not outages (NOT_LEADER), announce nothing.
  void failed(const Status& why);
  // A request succeeded: announces the recovery if a wait was announced.
  void succeeded();
  bool waiting() const { return waiting_; }

 private:
  bool waiting_ = false;
};

}  // namespace kreek::client
