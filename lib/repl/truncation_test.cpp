// truncation_offset: the follower's cut after offsets_for_epoch, KIP-101 and
// KIP-279 cases built from two real LeaderEpochCaches.
#include "repl/truncation.h"

#include <doctest/doctest.h>

using namespace kreek;
using namespace kreek::repl;
using storage::EpochEnd;
using storage::LeaderEpochCache;

namespace {

LeaderEpochCache make(std::initializer_list<std::pair<int32_t, int64_t>> es) {
  LeaderEpochCache c;
  for (auto [e, s] : es) REQUIRE(c.assign(LeaderEpoch(e), Offset(s)).is_ok());
  return c;
}

// The follower asks the leader for its latest epoch and cuts.
TruncationStep cut(const LeaderEpochCache& leader, Offset leader_leo, const LeaderEpochCache& follower,
                   Offset follower_leo) {
  EpochEnd answer = leader.end_offset_for(follower.latest_epoch(), leader_leo);
  return truncation_step(answer, follower_leo,
                         [&](LeaderEpoch e) { return follower.end_offset_for(e, follower_leo); });
}

}  // namespace

TEST_SUITE("repl") {
  TEST_CASE("truncation: same epoch, the follower keeps up to where the leader's epoch ended") {
    // KIP-101 case 1: the follower has epoch 1 up to 12, the leader's epoch 1 ended at 10.
    LeaderEpochCache leader = make({{0, 0}, {1, 5}, {2, 10}});
    LeaderEpochCache follower = make({{0, 0}, {1, 5}});
    auto t = cut(leader, Offset(15), follower, Offset(12));
    CHECK(t.offset == Offset(10));
    CHECK(t.complete);
    // A follower shorter than the leader's epoch keeps its whole log.
    CHECK(cut(leader, Offset(15), follower, Offset(8)).offset == Offset(8));
    // Same latest epoch on both: nothing to cut past the follower's end.
    CHECK(cut(leader, Offset(15), make({{0, 0}, {1, 5}, {2, 10}}), Offset(13)).offset == Offset(13));
  }

  TEST_CASE("truncation: KIP-279 the leader never had the follower's epoch") {
    // The follower led epoch 2 briefly (offsets 8..11, never replicated); the
    // leader went 1 -> 3 from offset 8. Answer for 2 is (1, 8): cut at 8.
    LeaderEpochCache leader = make({{0, 0}, {1, 4}, {3, 8}});
    LeaderEpochCache follower = make({{0, 0}, {1, 4}, {2, 8}});
    auto t = cut(leader, Offset(20), follower, Offset(12));
    CHECK(t.offset == Offset(8));
    CHECK(t.complete);
    // The follower's epoch 1 ended earlier than the leader's: its own end wins.
    LeaderEpochCache f2 = make({{0, 0}, {1, 4}, {2, 6}});
    CHECK(cut(leader, Offset(20), f2, Offset(12)).offset == Offset(6));
  }

  TEST_CASE("truncation: a follower without the leader's epoch cuts in steps") {
    // Leader: 0@0, 2@5. Follower never saw epoch 2: 0@0 up to 8, then 3@8.
    // Answer for 3 is (2, end); the follower's own floor for 2 is epoch 0
    // ending at 8, but the leader's epoch 0 ended at 5: 8 is only a first step.
    LeaderEpochCache leader = make({{0, 0}, {2, 5}});
    LeaderEpochCache follower = make({{0, 0}, {3, 8}});
    auto t = cut(leader, Offset(20), follower, Offset(10));
    CHECK(t.offset == Offset(8));
    CHECK_FALSE(t.complete);
    CHECK(truncation_offset(leader.end_offset_for(LeaderEpoch(3), Offset(20)), Offset(10),
                            [&](LeaderEpoch e) { return follower.end_offset_for(e, Offset(10)); }) == Offset(8));
    follower.truncate_from_end(Offset(8));
    auto again = cut(leader, Offset(20), follower, Offset(8));
    CHECK(again.offset == Offset(5));
    CHECK(again.complete);
  }

  TEST_CASE("truncation: nothing in common truncates everything") {
    LeaderEpochCache leader = make({{4, 100}});
    LeaderEpochCache follower = make({{1, 0}, {2, 50}});
    CHECK_FALSE(cut(leader, Offset(120), follower, Offset(70)).offset.has_value());
    // The leader has an old epoch the follower lacks entirely.
    LeaderEpochCache l2 = make({{0, 0}, {5, 10}});
    LeaderEpochCache f2 = make({{3, 0}});
    CHECK_FALSE(cut(l2, Offset(20), f2, Offset(7)).offset.has_value());
    CHECK_FALSE(truncation_offset(EpochEnd{}, Offset(9), [](LeaderEpoch) { return EpochEnd{}; }).has_value());
  }
}
