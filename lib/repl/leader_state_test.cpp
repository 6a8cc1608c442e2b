// LeaderState: the HW over the ISR, the epoch-start rule, ISR shrink and expand
// timing (Kafka's lastCaughtUpTime), and the maximal ISR while a proposal is out.
#include "repl/leader_state.h"

#include <doctest/doctest.h>

using namespace kreek;
using namespace kreek::repl;

namespace {

NodeId N(int n) { return NodeId(n); }
Offset O(int64_t o) { return Offset(o); }
std::vector<NodeId> nodes(std::initializer_list<int> ns) {
  std::vector<NodeId> v;
  for (int n : ns) v.push_back(NodeId(n));
  return v;
}

// Leader 0 of replicas {0,1,2}, ISR all three, at epoch 3 from offset 10.
LeaderState three(int64_t now = 0) {
  return LeaderState(N(0), LeaderEpoch(3), O(10), O(10), nodes({0, 1, 2}), nodes({0, 1, 2}), 5, now);
}

}  // namespace

TEST_SUITE("repl") {
  TEST_CASE("leader state: alone in the ISR, the HW follows every append") {
    LeaderState s(N(0), LeaderEpoch(0), O(0), O(0), nodes({0}), nodes({0}), 0, 0);
    CHECK(s.high_watermark() == O(0));
    CHECK(s.on_append(O(1)));
    CHECK(s.high_watermark() == O(1));
    CHECK(s.on_append(O(7)));
    CHECK(s.high_watermark() == O(7));
    CHECK_FALSE(s.on_append(O(7)));
    CHECK_FALSE(s.on_append(O(3)));  // a leader's log does not shrink
    CHECK(s.log_end() == O(7));
  }

  TEST_CASE("leader state: a new sole leader commits its whole log at once") {
    LeaderState s(N(0), LeaderEpoch(2), O(12), O(4), nodes({0, 1}), nodes({0}), 3, 0);
    CHECK(s.high_watermark() == O(12));
  }

  TEST_CASE("leader state: the checkpointed HW is clamped to the log end") {
    LeaderState s(N(0), LeaderEpoch(2), O(5), O(9), nodes({0, 1}), nodes({0, 1}), 3, 0);
    CHECK(s.high_watermark() == O(5));
  }

  TEST_CASE("leader state: the HW is the minimum LEO over the ISR and never goes back") {
    LeaderState s = three();
    CHECK(s.epoch_start() == O(10));
    CHECK_FALSE(s.on_append(O(20)));           // followers not heard from yet
    CHECK(s.high_watermark() == O(10));
    CHECK_FALSE(s.on_follower_fetch(N(1), O(15), 1));
    CHECK(s.on_follower_fetch(N(2), O(12), 1));
    CHECK(s.high_watermark() == O(12));
    CHECK(s.on_follower_fetch(N(2), O(20), 2));
    CHECK(s.high_watermark() == O(15));
    // A follower that truncated and fetches from lower does not pull the HW back.
    CHECK_FALSE(s.on_follower_fetch(N(1), O(11), 3));
    CHECK(s.high_watermark() == O(15));
    CHECK(s.on_follower_fetch(N(1), O(20), 4));
    CHECK(s.high_watermark() == O(20));
  }

  TEST_CASE("leader state: fetches past the log end, from self or from strangers are ignored") {
    LeaderState s = three();
    CHECK_FALSE(s.on_follower_fetch(N(1), O(11), 1));  // the leader only has 10
    CHECK(s.followers()[0].leo == O(-1));
    CHECK_FALSE(s.on_follower_fetch(N(9), O(10), 1));
    CHECK_FALSE(s.on_follower_fetch(N(0), O(10), 1));
  }

  TEST_CASE("leader state: a new leader commits nothing below its epoch start on its own say") {
    // Became leader at offset 10 with HW 4; followers at 7 and 8 hold some of
    // the old epoch's records, but the HW waits until all hold everything to 10.
    LeaderState s(N(0), LeaderEpoch(3), O(10), O(4), nodes({0, 1, 2}), nodes({0, 1, 2}), 5, 0);
    CHECK(s.high_watermark() == O(4));
    CHECK_FALSE(s.on_follower_fetch(N(1), O(7), 1));
    CHECK_FALSE(s.on_follower_fetch(N(2), O(8), 1));
    CHECK(s.high_watermark() == O(4));
    CHECK_FALSE(s.on_follower_fetch(N(1), O(10), 2));
    CHECK(s.on_follower_fetch(N(2), O(10), 2));
    CHECK(s.high_watermark() == O(10));
  }

  TEST_CASE("leader state: a follower that does not catch up within the lag leaves the ISR") {
    LeaderState s = three(0);
    s.on_append(O(20));
    CHECK_FALSE(s.isr_change(1000, 2000).has_value());
    s.on_follower_fetch(N(1), O(20), 500);   // caught up at 500
    s.on_follower_fetch(N(2), O(15), 500);   // behind: still caught up as of 0 (became leader)
    CHECK_FALSE(s.isr_change(2000, 2000).has_value());
    auto change = s.isr_change(2001, 2000);
    REQUIRE(change.has_value());
    CHECK(*change == nodes({0, 1}));
    // The ISR is never left without its leader, even when every follower lags.
    s.on_append(O(25));
    auto all = s.isr_change(9000, 2000);
    REQUIRE(all.has_value());
    CHECK(*all == nodes({0}));
  }

  TEST_CASE("leader state: reaching the LEO of the previous fetch counts as caught up then") {
    LeaderState s = three(0);
    s.on_append(O(20));
    s.on_follower_fetch(N(1), O(12), 1000);  // leader at 20 then
    s.on_append(O(30));
    s.on_follower_fetch(N(1), O(20), 1500);  // has what the leader had at 1000: caught up as of 1000
    CHECK(s.followers()[0].last_caught_up_ms == 1000);
    CHECK(s.followers()[0].last_fetch_ms == 1500);
    s.on_follower_fetch(N(1), O(25), 1800);  // short of the LEO at 1500 (30): no credit
    CHECK(s.followers()[0].last_caught_up_ms == 1000);
    s.on_follower_fetch(N(1), O(30), 1900);
    CHECK(s.followers()[0].last_caught_up_ms == 1900);
  }

  TEST_CASE("leader state: a follower with everything the leader has stays in the ISR on an idle partition") {
    LeaderState s = three(0);
    s.on_follower_fetch(N(1), O(10), 100);
    s.on_follower_fetch(N(2), O(10), 100);
    CHECK_FALSE(s.isr_change(100000, 2000).has_value());
  }

  TEST_CASE("leader state: a replica outside the ISR rejoins once its LEO reaches the HW and the epoch start") {
    LeaderState s(N(0), LeaderEpoch(3), O(10), O(10), nodes({0, 1, 2}), nodes({0, 1}), 5, 0);
    s.on_append(O(20));
    s.on_follower_fetch(N(1), O(20), 10);
    CHECK(s.high_watermark() == O(20));
    s.on_follower_fetch(N(2), O(15), 10);
    CHECK_FALSE(s.isr_change(20, 2000).has_value());
    s.on_follower_fetch(N(2), O(20), 30);
    auto change = s.isr_change(40, 2000);
    REQUIRE(change.has_value());
    CHECK(*change == nodes({0, 1, 2}));
  }

  TEST_CASE("leader state: a replica below the epoch start does not rejoin even at the HW") {
    // HW 4 from the checkpoint, epoch start 10: LEO 6 >= HW but < epoch start.
    LeaderState s(N(0), LeaderEpoch(3), O(10), O(4), nodes({0, 1}), nodes({0}), 5, 0);
    s.on_follower_fetch(N(1), O(6), 10);
    CHECK_FALSE(s.isr_change(20, 2000).has_value());
    s.on_follower_fetch(N(1), O(10), 30);
    CHECK(s.isr_change(40, 2000).has_value());
  }

  TEST_CASE("leader state: a proposal's additions hold the HW until the metadata settles it") {
    LeaderState s(N(0), LeaderEpoch(3), O(10), O(10), nodes({0, 1, 2}), nodes({0, 1}), 5, 0);
    s.on_follower_fetch(N(2), O(10), 1);
    auto change = s.isr_change(2, 2000);
    REQUIRE(change.has_value());
    s.proposal_sent(*change);
    CHECK(s.proposal_in_flight());
    CHECK_FALSE(s.isr_change(3, 2000).has_value());
    s.on_append(O(20));
    s.on_follower_fetch(N(1), O(20), 4);
    CHECK(s.high_watermark() == O(10));  // node 2 counts (maximal ISR)
    s.proposal_done();
    CHECK_FALSE(s.proposal_in_flight());
    s.on_follower_fetch(N(1), O(20), 5);
    CHECK(s.high_watermark() == O(10));  // still: the answer may say yes before the metadata does
    // The metadata arrives with the change applied; node 2 is an ISR member now.
    CHECK_FALSE(s.on_metadata(nodes({0, 1, 2}), nodes({0, 1, 2}), 6));
    CHECK(s.on_follower_fetch(N(2), O(20), 6));
    CHECK(s.high_watermark() == O(20));
  }

  TEST_CASE("leader state: a refused or superseded proposal stops holding the HW") {
    SUBCASE("refused") {
      LeaderState s(N(0), LeaderEpoch(3), O(10), O(10), nodes({0, 1, 2}), nodes({0, 1}), 5, 0);
      s.on_follower_fetch(N(2), O(10), 1);
      s.proposal_sent(*s.isr_change(2, 2000));
      s.on_append(O(20));
      s.on_follower_fetch(N(1), O(20), 3);
      CHECK(s.high_watermark() == O(10));
      s.proposal_refused();
      s.on_follower_fetch(N(1), O(20), 4);
      CHECK(s.high_watermark() == O(20));
    }
    SUBCASE("the metadata moved on without it") {
      LeaderState s(N(0), LeaderEpoch(3), O(10), O(10), nodes({0, 1, 2}), nodes({0, 1}), 5, 0);
      s.on_follower_fetch(N(2), O(10), 1);
      s.proposal_sent(*s.isr_change(2, 2000));
      s.on_append(O(20));
      s.on_follower_fetch(N(1), O(20), 3);
      s.proposal_done();
      CHECK(s.on_metadata(nodes({0, 1, 2}), nodes({0, 1}), 6));
      CHECK(s.high_watermark() == O(20));
    }
  }

  TEST_CASE("leader state: metadata that shrinks the ISR releases the HW, and older metadata is ignored") {
    LeaderState s = three();
    s.on_append(O(20));
    s.on_follower_fetch(N(1), O(20), 1);
    CHECK(s.high_watermark() == O(10));
    CHECK_FALSE(s.on_metadata(nodes({0, 1, 2}), nodes({0, 1}), 4));  // older partition epoch
    CHECK(s.isr() == nodes({0, 1, 2}));
    CHECK(s.on_metadata(nodes({0, 1, 2}), nodes({0, 1}), 6));
    CHECK(s.high_watermark() == O(20));
    CHECK(s.partition_epoch() == 6);
    // A replica dropped from the assignment loses its view; a new one starts unknown.
    s.on_metadata(nodes({0, 1, 3}), nodes({0, 1}), 7);
    auto fs = s.followers();
    REQUIRE(fs.size() == 2);
    CHECK(fs[0].node == N(1));
    CHECK(fs[0].leo == O(20));
    CHECK(fs[1].node == N(3));
    CHECK(fs[1].leo == O(-1));
  }

  TEST_CASE("leader state: a follower's new registration starts its view afresh, and an old one's fetches are ignored") {
    LeaderState s(N(0), LeaderEpoch(3), O(10), O(10), nodes({0, 1, 2}), nodes({0, 1}), 5, 0);
    s.on_append(O(20));
    s.on_follower_fetch(N(1), O(20), 1, 100);
    s.on_follower_fetch(N(2), O(20), 1, 200);  // node 2 holds everything ...
    CHECK(s.followers()[1].broker_epoch == 200);
    // ... then comes back on an empty disk (broker epoch 300) before it fetches again:
    // the leader's view still says 20, which is why the coordinator must check epochs.
    CHECK(s.followers()[1].leo == O(20));
    CHECK(s.on_follower_fetch(N(2), O(0), 5, 300) == false);
    CHECK(s.followers()[1].leo == O(0));
    CHECK(s.followers()[1].broker_epoch == 300);
    CHECK(s.followers()[1].last_caught_up_ms == 0);
    CHECK_FALSE(s.isr_change(6, 2000).has_value());  // LEO 0 < HW 20: it does not rejoin
    // A fetch from the dead process arriving late changes nothing.
    CHECK_FALSE(s.on_follower_fetch(N(2), O(20), 7, 200));
    CHECK(s.followers()[1].leo == O(0));
    // The first fetch that names a broker epoch only records it.
    LeaderState t = three(50);
    t.on_follower_fetch(N(1), O(5), 60, 7);
    CHECK(t.followers()[0].last_caught_up_ms == 50);
    CHECK(t.followers()[0].broker_epoch == 7);
  }
}
