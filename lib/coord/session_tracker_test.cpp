// Broker sessions: silence past the timeout expires a session; a heartbeat
// renews it; a coordinator stall restarts every session rather than expiring them.
#include "coord/session_tracker.h"

#include <doctest/doctest.h>

namespace kreek::coord {

TEST_SUITE("coord") {
  TEST_CASE("a session expires after the timeout of silence and a heartbeat renews it") {
    SessionTracker s(3000);
    s.touch(NodeId(1), 7, 1000);
    s.touch(NodeId(2), 9, 1000);
    CHECK(s.expired(4000).empty());
    s.touch(NodeId(2), 9, 3500);
    auto gone = s.expired(4001);
    REQUIRE(gone.size() == 1);
    CHECK(gone[0] == std::make_pair(NodeId(1), int64_t{7}));
    s.forget(NodeId(1));
    CHECK(!s.is_tracked(NodeId(1)));
  }

  TEST_CASE("after a stall of the coordinator every session starts afresh") {
    SessionTracker s(3000);
    s.touch(NodeId(1), 7, 1000);
    s.restart_all(10'000);
    CHECK(s.expired(12'000).empty());
    CHECK(s.expired(13'001).size() == 1);
  }
}

}  // namespace kreek::coord
