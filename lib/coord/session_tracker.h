// SessionTracker: when each registered broker was last heard from, and which
// sessions have run out. Soft state: it is not in the metadata log (a
// heartbeat writes nothing), and a coordinator that restarts gives every
// broker a fresh session from its own start. Time is an argument, so tests
// and the simulation drive it without a clock.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "base/strong_id.h"

namespace kreek::coord {

class SessionTracker {
 public:
  explicit SessionTracker(int64_t session_timeout_ms) : timeout_ms_(session_timeout_ms) {}

  int64_t timeout_ms() const { return timeout_ms_; }
  // A heartbeat (or registration) of `node` at broker epoch `epoch` arrived at `now_ms`.
  void touch(NodeId node, int64_t epoch, int64_t now_ms);
  // The broker is fenced or gone: stop tracking it.
  void forget(NodeId node);
  // Every tracked session starts afresh at `now_ms` (after a stall of the
  // coordinator's own, which says nothing about the brokers).
  void restart_all(int64_t now_ms);
  // Sessions silent for longer than the timeout, as (node, broker epoch).
  std::vector<std::pair<NodeId, int64_t>> expired(int64_t now_ms) const;
  bool is_tracked(NodeId node) const { return last_.count(node.value()) != 0; }

 private:
  struct Session {
    int64_t epoch = 0;
    int64_t last_ms = 0;
  };
  int64_t timeout_ms_;
  std::map<int32_t, Session> last_;
};

}  // namespace kreek::coord
