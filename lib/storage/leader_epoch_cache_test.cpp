// Leader epoch history: assign rules, the KIP-101/279 end-offset lookup, both
// truncations, and the leader-epoch-checkpoint codec (the leveldb set: empty,
// round trip, flipped byte, truncated tail, bad count, unknown version).
#include "storage/leader_epoch_cache.h"

#include <doctest/doctest.h>

using namespace kreek;
using namespace kreek::storage;

namespace {

using E = LeaderEpochCache::Entry;

LeaderEpochCache make(std::initializer_list<std::pair<int32_t, int64_t>> es) {
  LeaderEpochCache c;
  for (auto [e, s] : es) REQUIRE(c.assign(LeaderEpoch(e), Offset(s)).is_ok());
  return c;
}

EpochEnd ee(int32_t e, int64_t end) { return {LeaderEpoch(e), Offset(end)}; }

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("leader epoch cache: assign adds later epochs and ignores the latest again") {
    LeaderEpochCache c;
    CHECK(c.latest_epoch() == LeaderEpoch(-1));
    CHECK(*c.assign(LeaderEpoch(0), Offset(0)));
    CHECK(*c.assign(LeaderEpoch(2), Offset(10)));
    CHECK_FALSE(*c.assign(LeaderEpoch(2), Offset(15)));  // same epoch, later batch: no-op
    CHECK(c.latest_epoch() == LeaderEpoch(2));
    CHECK(c.entries() == std::vector<E>{{LeaderEpoch(0), Offset(0)}, {LeaderEpoch(2), Offset(10)}});
  }

  TEST_CASE("leader epoch cache: assign refuses an older epoch or an earlier start") {
    LeaderEpochCache c = make({{1, 5}, {3, 10}});
    auto older = c.assign(LeaderEpoch(2), Offset(20));
    REQUIRE_FALSE(older.is_ok());
    CHECK(older.status().code() == Code::kCorrupt);
    auto earlier = c.assign(LeaderEpoch(4), Offset(9));
    REQUIRE_FALSE(earlier.is_ok());
    CHECK(earlier.status().code() == Code::kCorrupt);
    CHECK_FALSE(c.assign(LeaderEpoch(-1), Offset(0)).is_ok());
    CHECK_FALSE(LeaderEpochCache().assign(LeaderEpoch(0), Offset(-1)).is_ok());
    // Nothing changed.
    CHECK(c.entries() == std::vector<E>{{LeaderEpoch(1), Offset(5)}, {LeaderEpoch(3), Offset(10)}});
  }

  TEST_CASE("leader epoch cache: a later epoch at the same start replaces an epoch with no records") {
    LeaderEpochCache c = make({{0, 0}, {1, 10}});
    CHECK(*c.assign(LeaderEpoch(3), Offset(10)));
    CHECK(c.entries() == std::vector<E>{{LeaderEpoch(0), Offset(0)}, {LeaderEpoch(3), Offset(10)}});
    // Asking for epoch 1 (which wrote nothing) now answers with epoch 0's end.
    CHECK(c.end_offset_for(LeaderEpoch(1), Offset(12)) == ee(0, 10));
  }

  TEST_CASE("leader epoch cache: end offset of an epoch is the next epoch's start or the log end") {
    LeaderEpochCache c = make({{0, 0}, {2, 10}, {5, 30}});
    CHECK(c.end_offset_for(LeaderEpoch(0), Offset(40)) == ee(0, 10));
    CHECK(c.end_offset_for(LeaderEpoch(2), Offset(40)) == ee(2, 30));
    CHECK(c.end_offset_for(LeaderEpoch(5), Offset(40)) == ee(5, 40));
    // An epoch above the latest: the latest and the log end.
    CHECK(c.end_offset_for(LeaderEpoch(9), Offset(40)) == ee(5, 40));
  }

  TEST_CASE("leader epoch cache: KIP-279 an epoch the leader never had answers with the largest below it") {
    // The follower's latest epoch is 3 (a leader that lost its writes); the
    // leader went 2 -> 4. The answer is epoch 2 and where it ended, and the
    // follower truncates to min(that, its own end of epoch 2).
    LeaderEpochCache c = make({{0, 0}, {2, 10}, {4, 25}});
    CHECK(c.end_offset_for(LeaderEpoch(3), Offset(40)) == ee(2, 25));
    CHECK(c.end_offset_for(LeaderEpoch(1), Offset(40)) == ee(0, 10));
  }

  TEST_CASE("leader epoch cache: no epoch at or below the one asked is unknown") {
    CHECK(LeaderEpochCache().end_offset_for(LeaderEpoch(3), Offset(7)) == EpochEnd{});
    LeaderEpochCache c = make({{4, 100}});
    CHECK(c.end_offset_for(LeaderEpoch(3), Offset(120)) == ee(-1, -1));
    CHECK(c.end_offset_for(LeaderEpoch(4), Offset(120)) == ee(4, 120));
  }

  TEST_CASE("leader epoch cache: truncate from end drops epochs that start at or after the new end") {
    LeaderEpochCache c = make({{0, 0}, {2, 10}, {5, 30}});
    c.truncate_from_end(Offset(31));
    CHECK(c.latest_epoch() == LeaderEpoch(5));
    c.truncate_from_end(Offset(30));
    CHECK(c.entries() == std::vector<E>{{LeaderEpoch(0), Offset(0)}, {LeaderEpoch(2), Offset(10)}});
    // After truncating, the older epoch runs to the (new) log end again.
    CHECK(c.end_offset_for(LeaderEpoch(5), Offset(30)) == ee(2, 30));
    c.truncate_from_end(Offset(0));
    CHECK(c.entries().empty());
    // And a new leader epoch can start again where the log now ends.
    CHECK(*c.assign(LeaderEpoch(6), Offset(0)));
  }

  TEST_CASE("leader epoch cache: truncate from start drops whole epochs and clamps the first") {
    LeaderEpochCache c = make({{0, 0}, {2, 10}, {5, 30}});
    c.truncate_from_start(Offset(0));
    CHECK(c.entries().size() == 3);
    c.truncate_from_start(Offset(12));
    CHECK(c.entries() == std::vector<E>{{LeaderEpoch(2), Offset(12)}, {LeaderEpoch(5), Offset(30)}});
    c.truncate_from_start(Offset(30));  // exactly at an epoch's start
    CHECK(c.entries() == std::vector<E>{{LeaderEpoch(5), Offset(30)}});
    c.truncate_from_start(Offset(55));  // the latest epoch is never dropped
    CHECK(c.entries() == std::vector<E>{{LeaderEpoch(5), Offset(55)}});
    // Epochs asked below the remaining history are unknown.
    CHECK(c.end_offset_for(LeaderEpoch(2), Offset(60)) == EpochEnd{});
    c.clear();
    CHECK(c.entries().empty());
    c.truncate_from_start(Offset(3));  // empty stays empty
    CHECK(c.entries().empty());
  }

  TEST_CASE("leader epoch checkpoint: round trip in Kafka's text format") {
    LeaderEpochCache c = make({{0, 0}, {2, 10}, {5, 30}});
    CHECK(c.encode() == "0\n3\n0 0\n2 10\n5 30\n");
    auto back = LeaderEpochCache::decode(c.encode());
    REQUIRE(back.is_ok());
    CHECK(back->entries() == c.entries());
    auto empty = LeaderEpochCache::decode(LeaderEpochCache().encode());
    REQUIRE(empty.is_ok());
    CHECK(empty->entries().empty());
    CHECK(LeaderEpochCache().encode() == "0\n0\n");
  }

  TEST_CASE("leader epoch checkpoint: anything off is corrupt with a message naming it") {
    auto bad = [](std::string_view text) {
      auto r = LeaderEpochCache::decode(text);
      REQUIRE_FALSE(r.is_ok());
      CHECK(r.status().code() == Code::kCorrupt);
      CHECK(r.status().message().rfind("decode leader-epoch-checkpoint", 0) == 0);
      return r.status().message();
    };
    CHECK(bad("").find("empty") != std::string::npos);
    CHECK(bad("1\n0\n").find("version") != std::string::npos);
    CHECK(bad("0\n").find("count") != std::string::npos);
    CHECK(bad("0\nx\n").find("count") != std::string::npos);
    CHECK(bad("0\n2\n0 0\n").find("count says 2") != std::string::npos);    // missing line
    CHECK(bad("0\n1\n0 0\n1 5\n").find("count says 1") != std::string::npos);  // extra line
    CHECK(bad("0\n2\n0 0\n1 5").find("torn") != std::string::npos);        // no final newline
    CHECK(bad("0\n1\n0  0\n").find("line 3") != std::string::npos);
    CHECK(bad("0\n1\n0 1x\n").find("line 3") != std::string::npos);        // flipped byte
    CHECK(bad("0\n1\n-1 0\n").find("line 3") != std::string::npos);
    CHECK(bad("0\n1\n0 0 0\n").find("line 3") != std::string::npos);
    CHECK(bad("0\n2\n3 10\n2 20\n").find("line 4") != std::string::npos);   // epochs go back
    CHECK(bad("0\n2\n1 10\n2 10\n").find("line 4") != std::string::npos);   // start does not increase
    CHECK(bad("0\n1\n0 99999999999999999999\n").find("line 3") != std::string::npos);
    CHECK(bad("0\r\n0\r\n").find("version") != std::string::npos);
  }
}
