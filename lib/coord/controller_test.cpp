// Controller decisions, one scenario each: registration, fencing, unfencing,
// ISR compare-and-set, controlled shutdown, placement through create_topic.
#include "coord/controller.h"

#include <doctest/doctest.h>

#include "coord/coord_test_util.h"

namespace kreek::coord {
namespace {

using test::Cluster;

TEST_SUITE("coord") {
  TEST_CASE("a node id held by a live broker with another data dir is refused") {
    Cluster c(3);
    auto r = c.controller.register_broker(c.image, RegisterBroker{NodeId(1), "x", "other-dir", "h:1", ""});
    REQUIRE(!r.is_ok());
    CHECK(r.status().code() == Code::kDuplicateBroker);
    CHECK(r.status().message().find("node 1 is already held") != std::string::npos);
  }

  TEST_CASE("the same data dir registering again fences the old incarnation first") {
    Cluster c(3);
    c.create("t", 3, 3);
    int64_t old_epoch = c.image.broker(NodeId(1))->broker_epoch;
    c.apply(*c.controller.register_broker(c.image, RegisterBroker{NodeId(1), "new", "dir-1", "h:1", ""}));
    const BrokerInfo* b = c.image.broker(NodeId(1));
    CHECK(b->broker_epoch > old_epoch);
    CHECK(b->state == BrokerState::kFenced);
    for (const auto& p : c.image.topic("t")->partitions) {
      CHECK(p.leader != NodeId(1));
      CHECK(!p.in_isr(NodeId(1)));
    }
  }

  TEST_CASE("fencing the leader elects the next ISR member and bumps the epochs") {
    Cluster c(3);
    c.create("t", 1, 3);
    PartitionInfo before = *c.image.partition("t", 0);
    c.apply(c.controller.fence(c.image, before.leader));
    const PartitionInfo& after = *c.image.partition("t", 0);
    CHECK(after.leader != before.leader);
    CHECK(after.leader != kNoLeader);
    CHECK(after.leader_epoch == before.leader_epoch + 1);
    CHECK(after.partition_epoch == before.partition_epoch + 1);
    CHECK(!after.in_isr(before.leader));
  }

  TEST_CASE("the last ISR member stays in the ISR when fenced and leads again when back") {
    Cluster c(1);
    c.create("t", 1, 1);
    c.apply(c.controller.fence(c.image, NodeId(0)));
    const PartitionInfo* p = c.image.partition("t", 0);
    CHECK(p->leader == kNoLeader);
    CHECK(p->isr == std::vector<NodeId>{NodeId(0)});
    // A fenced broker is unfenced once it has applied the log up to its fence.
    int64_t fenced_at = c.image.broker(NodeId(0))->state_offset;
    auto hb = c.controller.heartbeat(c.image, HeartbeatRequest{NodeId(0), c.epoch(0), fenced_at - 1});
    REQUIRE(hb.is_ok());
    CHECK(hb->records.empty());
    c.heartbeat(0);
    CHECK(c.image.partition("t", 0)->leader == NodeId(0));
    CHECK(c.image.partition("t", 0)->leader_epoch == LeaderEpoch(2));
  }

  TEST_CASE("unclean election is used only when the topic allows it") {
    for (bool unclean : {false, true}) {
      CAPTURE(unclean);
      Cluster c(2);
      c.create("t", 1, 2, {{"unclean.leader.election.enable", unclean ? "true" : "false"}});
      NodeId first = c.image.partition("t", 0)->leader;
      NodeId second = c.image.partition("t", 0)->replicas[1];
      // The follower drops out of the ISR, then the leader dies.
      c.alter_isr("t", 0, {first});
      c.apply(c.controller.fence(c.image, first));
      const PartitionInfo* p = c.image.partition("t", 0);
      CHECK(p->leader == (unclean ? second : kNoLeader));
      CHECK(p->isr == std::vector<NodeId>{unclean ? second : first});
    }
  }

  TEST_CASE("an ISR change is a compare-and-set on the partition epoch") {
    Cluster c(3);
    c.create("t", 1, 3);
    const PartitionInfo p = *c.image.partition("t", 0);
    NodeId leader = p.leader;
    AlterPartitionRequest req{"t", 0, leader, c.epoch(leader.value()), p.leader_epoch,
                              p.partition_epoch, {leader}};
    c.apply(*c.controller.alter_partition(c.image, req));
    CHECK(c.image.partition("t", 0)->isr == std::vector<NodeId>{leader});
    // The same request again names a partition epoch that is gone.
    auto stale = c.controller.alter_partition(c.image, req);
    CHECK(stale.status().code() == Code::kFencedEpoch);
    // A follower cannot change the ISR.
    NodeId follower = p.replicas[0] == leader ? p.replicas[1] : p.replicas[0];
    AlterPartitionRequest other{"t", 0, follower, c.epoch(follower.value()), p.leader_epoch,
                                p.partition_epoch + 1, {follower}};
    CHECK(c.controller.alter_partition(c.image, other).status().code() == Code::kNotLeader);
    // A fenced leader cannot either, even with the right epochs.
    c.apply(c.controller.fence(c.image, leader));
    req.partition_epoch = c.image.partition("t", 0)->partition_epoch;
    CHECK(c.controller.alter_partition(c.image, req).status().code() == Code::kFencedEpoch);
  }

  TEST_CASE("a fenced broker cannot be added to an ISR") {
    Cluster c(3);
    c.create("t", 1, 3);
    NodeId leader = c.image.partition("t", 0)->leader;
    NodeId out = c.image.partition("t", 0)->replicas[0] == leader ? c.image.partition("t", 0)->replicas[1]
                                                                   : c.image.partition("t", 0)->replicas[0];
    c.apply(c.controller.fence(c.image, out));
    const PartitionInfo p = *c.image.partition("t", 0);
    std::vector<NodeId> isr = p.isr;
    isr.push_back(out);
    auto r = c.controller.alter_partition(
        c.image, {"t", 0, leader, c.epoch(leader.value()), p.leader_epoch, p.partition_epoch, isr, {}});
    CHECK(r.status().code() == Code::kInvalidRequest);
  }

  TEST_CASE("an ISR addition must name the member's current broker epoch (KIP-903)") {
    Cluster c(3);
    c.create("t", 1, 3);
    const PartitionInfo p0 = *c.image.partition("t", 0);
    NodeId leader = p0.leader;
    NodeId out = p0.replicas[0] == leader ? p0.replicas[1] : p0.replicas[0];
    std::vector<NodeId> without;
    for (NodeId n : p0.isr)
      if (n != out) without.push_back(n);
    c.alter_isr("t", 0, without);
    const PartitionInfo p = *c.image.partition("t", 0);
    AlterPartitionRequest req{"t", 0, leader, c.epoch(leader.value()), p.leader_epoch, p.partition_epoch, p.isr, {}};
    req.isr.push_back(out);
    // No epoch for the new member, or an older registration's: refused.
    CHECK(c.controller.alter_partition(c.image, req).status().code() == Code::kInvalidRequest);
    req.member_epochs[out.value()] = c.epoch(out.value()) - 1;
    auto stale = c.controller.alter_partition(c.image, req);
    CHECK(stale.status().code() == Code::kInvalidRequest);
    CHECK(stale.status().message().find("broker epoch") != std::string::npos);
    req.member_epochs[out.value()] = c.epoch(out.value());
    CHECK(c.controller.alter_partition(c.image, req).is_ok());
  }

  TEST_CASE("controlled shutdown hands leaderships over, then fences") {
    Cluster c(3);
    c.create("t", 6, 2);
    HeartbeatRequest req{NodeId(0), c.epoch(0), -1, true};
    auto first = c.controller.heartbeat(c.image, req);
    REQUIRE(first.is_ok());
    CHECK(!first->shutdown_ready);  // it has not seen its own changes yet
    c.apply(first->records);
    CHECK(c.image.broker(NodeId(0))->state == BrokerState::kShuttingDown);
    for (const auto& p : c.image.topic("t")->partitions) CHECK(p.leader != NodeId(0));
    req.applied_offset = c.image.next_offset() - 1;
    auto second = c.controller.heartbeat(c.image, req);
    REQUIRE(second.is_ok());
    CHECK(second->shutdown_ready);
    c.apply(second->records);
    CHECK(c.image.broker(NodeId(0))->state == BrokerState::kFenced);
  }

  TEST_CASE("create_topic spreads leaders and replicas evenly and refuses too large a factor") {
    Cluster c(3);
    c.create("t", 6, 2);
    std::map<int32_t, int> leads, holds;
    for (const auto& p : c.image.topic("t")->partitions) {
      ++leads[p.leader.value()];
      for (NodeId r : p.replicas) ++holds[r.value()];
    }
    for (int n = 0; n < 3; ++n) {
      CHECK(leads[n] == 2);
      CHECK(holds[n] == 4);
    }
    auto r = c.controller.create_topic(c.image, CreateTopicRequest{"u", "id-u", 1, 4, {}, {}});
    CHECK(r.status().code() == Code::kInvalidRequest);
    CHECK(r.status().message() == "replication factor 4 is larger than the 3 live brokers");
    auto dup = c.controller.create_topic(c.image, CreateTopicRequest{"t", "id-t2", 1, 1, {}, {}});
    CHECK(dup.status().code() == Code::kTopicExists);
  }

  TEST_CASE("a second topic's leaders start where the first left fewest") {
    Cluster c(3);
    c.create("a", 1, 1);
    c.create("b", 2, 1);
    std::map<int32_t, int> leads;
    for (const auto& [name, t] : c.image.topics())
      for (const auto& p : t.partitions) ++leads[p.leader.value()];
    CHECK(leads.size() == 3);
  }

  TEST_CASE("placement keeps replicas of a partition on different racks") {
    std::vector<PlacementBroker> brokers{{NodeId(0), "a"}, {NodeId(1), "a"}, {NodeId(2), "b"},
                                         {NodeId(3), "b"}, {NodeId(4), "c"}, {NodeId(5), "c"}};
    auto lists = place_replicas(brokers, 0, 12, 3, NodeId(0));
    REQUIRE(lists.is_ok());
    for (const auto& l : *lists) {
      std::set<std::string> racks;
      for (NodeId n : l) racks.insert(brokers[n.value()].rack);
      CHECK(racks.size() == 3);
    }
    CHECK(rack_alternating(brokers)[1].rack == "b");
  }

  TEST_CASE("elect_leaders returns leadership to the preferred replica") {
    Cluster c(2);
    c.create("t", 1, 2);
    NodeId preferred = c.image.partition("t", 0)->replicas[0];
    c.apply(c.controller.fence(c.image, preferred));
    c.heartbeat(preferred.value());  // unfenced, but out of the ISR: stays a follower
    CHECK(c.image.partition("t", 0)->leader != preferred);
    CHECK(c.controller.elect_leaders(c.image).empty());
    const PartitionInfo p = *c.image.partition("t", 0);
    c.alter_isr("t", 0, {p.leader, preferred});
    c.apply(c.controller.elect_leaders(c.image));
    CHECK(c.image.partition("t", 0)->leader == preferred);
  }
}

}  // namespace
}  // namespace kreek::coord
