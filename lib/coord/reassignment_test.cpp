// Replica reassignment (KIP-455) in the Controller and the image: a move
// starts with adding/removing lists, completes once every target replica is
// in the ISR, can be replaced or cancelled, and survives the record codec
// and snapshots (including ones written before the fields existed).
#include <doctest/doctest.h>

#include "coord/coord_test_util.h"

namespace kreek::coord {
namespace {

using test::Cluster;

std::vector<NodeId> ids(std::initializer_list<int> v) {
  std::vector<NodeId> out;
  for (int n : v) out.push_back(NodeId(n));
  return out;
}

struct Reassign {
  Cluster& c;
  Result<std::vector<Record>> operator()(const std::string& t, int32_t p,
                                         std::optional<std::vector<NodeId>> target) {
    return c.controller.alter_reassignment(c.image, t, p, std::move(target));
  }
};

// A 3-broker cluster with topic t: one partition whose only replica is node 0.
Cluster one_replica_on_0() {
  Cluster c(3);
  auto r = c.controller.create_topic(c.image, CreateTopicRequest{"t", "id-t", 1, 1, {}, {ids({0})}});
  REQUIRE(r.is_ok());
  c.apply(*r);
  return c;
}

TEST_SUITE("coord") {
  TEST_CASE("a reassignment lists the target first and the replicas it adds and removes") {
    Cluster c = one_replica_on_0();
    auto r = Reassign{c}("t", 0, ids({1, 2}));
    REQUIRE(r.is_ok());
    REQUIRE(r->size() == 1);
    c.apply(*r);
    const PartitionInfo& p = *c.image.partition("t", 0);
    CHECK(p.replicas == ids({1, 2, 0}));
    CHECK(p.adding == ids({1, 2}));
    CHECK(p.removing == ids({0}));
    CHECK(p.target() == ids({1, 2}));
    CHECK(p.leader == NodeId(0));  // the old replica leads until the new ones are in sync
    CHECK(p.isr == ids({0}));
    CHECK(p.partition_epoch == 1);
    CHECK(p.leader_epoch == LeaderEpoch(0));
  }

  TEST_CASE("a reassignment completes only when every target replica is in the ISR") {
    Cluster c = one_replica_on_0();
    c.apply(*Reassign{c}("t", 0, ids({1, 2})));
    // One new replica caught up: not yet.
    c.alter_isr("t", 0, ids({0, 1}));
    CHECK(c.image.partition("t", 0)->is_reassigning());
    // Both: the leader's ISR expansion completes the move in the same decision,
    // and the removed leader hands over to the target's first ISR member.
    LeaderEpoch before = c.image.partition("t", 0)->leader_epoch;
    c.alter_isr("t", 0, ids({0, 1, 2}));
    const PartitionInfo& p = *c.image.partition("t", 0);
    CHECK(!p.is_reassigning());
    CHECK(p.replicas == ids({1, 2}));
    CHECK(p.isr == ids({1, 2}));
    CHECK(p.leader == NodeId(1));
    CHECK(p.leader_epoch == before + 1);
  }

  TEST_CASE("preferred leadership may go to an in-sync target replica before the move ends") {
    Cluster c = one_replica_on_0();
    c.apply(*Reassign{c}("t", 0, ids({1, 2})));
    c.alter_isr("t", 0, ids({0, 1}));
    c.apply(c.controller.elect_leaders(c.image));
    const PartitionInfo& p = *c.image.partition("t", 0);
    CHECK(p.leader == NodeId(1));  // the target's first replica, in sync
    CHECK(p.is_reassigning());     // 2 is not in sync yet
    CHECK(p.replicas == ids({1, 2, 0}));
  }

  TEST_CASE("the periodic election step completes a move that waited for a leader") {
    Cluster c(2);
    c.create("t", 1, 2);
    std::vector<NodeId> reps = c.image.partition("t", 0)->replicas;
    NodeId old_leader = reps[0], next = reps[1];
    // The target's only replica is in sync but shutting down: it may not lead,
    // so the move waits rather than leave the partition leaderless.
    int64_t next_epoch = c.epoch(next.value());
    c.apply({BeginShutdown{next, next_epoch}});
    c.apply(*Reassign{c}("t", 0, std::vector<NodeId>{next}));
    CHECK(c.image.partition("t", 0)->is_reassigning());
    CHECK(c.image.partition("t", 0)->leader == old_leader);
    c.apply({UnfenceBroker{next, next_epoch}});
    c.apply(c.controller.elect_leaders(c.image));
    const PartitionInfo& p = *c.image.partition("t", 0);
    CHECK(!p.is_reassigning());
    CHECK(p.replicas == std::vector<NodeId>{next});
    CHECK(p.leader == next);
  }

  TEST_CASE("a move whose target is already in sync completes at once") {
    Cluster c(3);
    c.create("t", 1, 3);
    std::vector<NodeId> reps = c.image.partition("t", 0)->replicas;
    SUBCASE("a reorder changes the preferred leader only") {
      std::vector<NodeId> target{reps[2], reps[0], reps[1]};
      c.apply(*Reassign{c}("t", 0, target));
      const PartitionInfo& p = *c.image.partition("t", 0);
      CHECK(!p.is_reassigning());
      CHECK(p.replicas == target);
      CHECK(p.leader == reps[0]);
      c.apply(c.controller.elect_leaders(c.image));
      CHECK(c.image.partition("t", 0)->leader == reps[2]);
    }
    SUBCASE("fewer replicas drop out of the ISR, the leader moving if it goes") {
      c.apply(*Reassign{c}("t", 0, std::vector<NodeId>{reps[1]}));
      const PartitionInfo& p = *c.image.partition("t", 0);
      CHECK(p.replicas == std::vector<NodeId>{reps[1]});
      CHECK(p.isr == std::vector<NodeId>{reps[1]});
      CHECK(p.leader == reps[1]);
    }
    SUBCASE("the same replicas again change nothing") {
      auto r = Reassign{c}("t", 0, reps);
      REQUIRE(r.is_ok());
      CHECK(r->empty());
    }
  }

  TEST_CASE("a new target replaces a running move, counted from the original replicas") {
    Cluster c = one_replica_on_0();
    c.apply(*Reassign{c}("t", 0, ids({1})));
    c.alter_isr("t", 0, ids({0, 1}));  // completes: [1]
    CHECK(c.image.partition("t", 0)->replicas == ids({1}));
    c.apply(*Reassign{c}("t", 0, ids({2})));
    CHECK(c.image.partition("t", 0)->adding == ids({2}));
    // Replace: 2 (never in sync) leaves at once; 0 is added instead.
    c.apply(*Reassign{c}("t", 0, ids({0})));
    const PartitionInfo& p = *c.image.partition("t", 0);
    CHECK(p.replicas == ids({0, 1}));
    CHECK(p.adding == ids({0}));
    CHECK(p.removing == ids({1}));
  }

  TEST_CASE("a cancel goes back to the replicas the partition had") {
    Cluster c = one_replica_on_0();
    c.apply(*Reassign{c}("t", 0, ids({1, 2})));
    c.alter_isr("t", 0, ids({0, 1}));
    c.apply(*Reassign{c}("t", 0, std::nullopt));
    const PartitionInfo& p = *c.image.partition("t", 0);
    CHECK(!p.is_reassigning());
    CHECK(p.replicas == ids({0}));
    CHECK(p.isr == ids({0}));
    CHECK(p.leader == NodeId(0));
    auto again = Reassign{c}("t", 0, std::nullopt);
    REQUIRE(!again.is_ok());
    CHECK(again.status().message() == "no reassignment of t/0 is in progress");
  }

  TEST_CASE("a cancel that would leave no in-sync replica is refused") {
    Cluster c = one_replica_on_0();
    c.apply(*Reassign{c}("t", 0, ids({1, 2})));
    c.alter_isr("t", 0, ids({0, 1}));
    // The old replica dies: the new one in sync takes over, and going back to
    // [0] alone would drop the only copy known to be complete.
    c.apply(c.controller.fence(c.image, NodeId(0)));
    CHECK(c.image.partition("t", 0)->leader == NodeId(1));
    auto r = Reassign{c}("t", 0, std::nullopt);
    REQUIRE(!r.is_ok());
    CHECK(r.status().message() == "the new replicas of t/0 would leave it no in-sync replica");
  }

  TEST_CASE("bad targets are refused and write nothing") {
    Cluster c = one_replica_on_0();
    auto check_refused = [&](std::optional<std::vector<NodeId>> target, Code code, const std::string& msg) {
      auto r = Reassign{c}("t", 0, std::move(target));
      REQUIRE(!r.is_ok());
      CHECK(r.status().code() == code);
      CHECK(r.status().message() == msg);
    };
    check_refused(ids({}), Code::kInvalidRequest, "the new replicas of t/0 must not be empty");
    check_refused(ids({1, 1}), Code::kInvalidRequest, "node 1 is listed twice in the new replicas of t/0");
    check_refused(ids({1, 9}), Code::kInvalidRequest, "node 9 is not registered");
    CHECK(Reassign{c}("nope", 0, ids({1})).status().code() == Code::kUnknownTopic);
    CHECK(Reassign{c}("t", 3, ids({1})).status().code() == Code::kUnknownPartition);
  }

  TEST_CASE("unclean election never picks a replica that is still being added") {
    Cluster c(3);
    auto r = c.controller.create_topic(c.image, CreateTopicRequest{"t", "id-t", 1, 1,
                                                                  {{"unclean.leader.election.enable", "true"}},
                                                                  {ids({0})}});
    c.apply(*r);
    c.apply(*Reassign{c}("t", 0, ids({1})));
    c.apply(c.controller.fence(c.image, NodeId(0)));
    const PartitionInfo& p = *c.image.partition("t", 0);
    CHECK(p.leader == kNoLeader);
    CHECK(p.is_reassigning());
  }

  TEST_CASE("reassignment fields survive the record codec and snapshots") {
    Cluster c = one_replica_on_0();
    auto r = Reassign{c}("t", 0, ids({1, 2}));
    REQUIRE(r.is_ok());
    nlohmann::json j = to_json((*r)[0]);
    CHECK(j["adding"] == nlohmann::json::array({1, 2}));
    CHECK(j["removing"] == nlohmann::json::array({0}));
    auto back = record_from_json(j);
    REQUIRE(back.is_ok());
    CHECK(to_json(*back) == j);
    c.apply(*r);
    auto restored = MetadataImage::from_json(c.image.to_json());
    REQUIRE(restored.is_ok());
    CHECK(restored->to_json() == c.image.to_json());
    CHECK(restored->partition("t", 0)->adding == ids({1, 2}));
  }

  TEST_CASE("records and snapshots from before reassignment read back with none running") {
    nlohmann::json old = {{"type", "partition_change"}, {"topic", "t"}, {"partition", 0},
                          {"replicas", {0}}, {"leader", 0}, {"leader_epoch", 1},
                          {"isr", {0}}, {"partition_epoch", 1}};
    auto r = record_from_json(old);
    REQUIRE(r.is_ok());
    CHECK(std::get<PartitionChange>(*r).adding.empty());
    CHECK(to_json(*r) == old);  // written back byte for byte as before
    Cluster c = one_replica_on_0();
    nlohmann::json snap = c.image.to_json();
    CHECK(!snap["topics"][0]["partitions"][0].contains("adding"));
    auto restored = MetadataImage::from_json(snap);
    REQUIRE(restored.is_ok());
    CHECK(!restored->partition("t", 0)->is_reassigning());
  }

  TEST_CASE("a record whose reassignment does not fit the replicas is refused by apply") {
    Cluster c = one_replica_on_0();
    PartitionChange bad{"t", 0, ids({0}), NodeId(0), LeaderEpoch(0), ids({0}), 1, ids({1}), {}};
    CHECK(c.image.apply(c.image.next_offset(), bad).code() == Code::kCorrupt);
    PartitionChange all_removed{"t", 0, ids({0}), NodeId(0), LeaderEpoch(0), ids({0}), 1, {}, ids({0})};
    CHECK(c.image.apply(c.image.next_offset(), all_removed).code() == Code::kCorrupt);
  }
}

}  // namespace
}  // namespace kreek::coord
