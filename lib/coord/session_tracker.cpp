// Broker sessions; see session_tracker.h.
#include "coord/session_tracker.h"

namespace kreek::coord {

void SessionTracker::touch(NodeId node, int64_t epoch, int64_t now_ms) {
  last_[node.value()] = Session{epoch, now_ms};
}

void SessionTracker::forget(NodeId node) { last_.erase(node.value()); }

void SessionTracker::restart_all(int64_t now_ms) {
  for (auto& [node, s] : last_) s.last_ms = now_ms;
}

std::vector<std::pair<NodeId, int64_t>> SessionTracker::expired(int64_t now_ms) const {
  std::vector<std::pair<NodeId, int64_t>> out;
  for (const auto& [node, s] : last_)
    if (now_ms - s.last_ms > timeout_ms_) out.emplace_back(NodeId(node), s.epoch);
  return out;
}

}  // namespace kreek::coord
