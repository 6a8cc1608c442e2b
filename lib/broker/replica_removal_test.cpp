// A broker follows a replica reassignment: the new replica's broker opens a
// log for it, describe/metadata show adding and removing while the move runs,
// and once the move completes the old replica's broker removes its log (and
// nothing it keeps per partition still points at it); without a coordinator
// the alter_reassignment op is refused.
#include <doctest/doctest.h>

#include "broker/broker_context.h"
#include "broker/broker_test_util.h"
#include "broker/compaction_scheduler.h"
#include "broker/flush_scheduler.h"
#include "broker/metadata_sync.h"
#include "coord/controller.h"
#include "storage/storage_test_util.h"

namespace kreek::broker {
namespace {

using testing::Harness;

// Brokers 0 and 1, live, with topic "moves": one partition on node 0 only.
struct TwoBrokers {
  coord::MetadataImage img;
  coord::Controller ctl;
  TwoBrokers() {
    apply(ctl.init_cluster(img, "cluster-x"));
    for (int n = 0; n < 2; ++n) {
      apply(*ctl.register_broker(img, coord::RegisterBroker{NodeId(n), "i", "d" + std::to_string(n),
                                                            "127.0.0.1:909" + std::to_string(n), ""}));
      apply(ctl.heartbeat(img, {NodeId(n), img.next_offset() - 1, img.next_offset() - 1})->records);
    }
    apply(*ctl.create_topic(img, coord::CreateTopicRequest{"moves", "id-m", 1, 1, {}, {{NodeId(0)}}}));
  }
  void apply(const std::vector<coord::Record>& rs) {
    for (const auto& r : rs) REQUIRE(img.apply(img.next_offset(), r).is_ok());
  }
  int64_t epoch(int n) const { return img.broker(NodeId(n))->broker_epoch; }
};

TEST_SUITE("broker cluster") {
  TEST_CASE("a broker removes its log of a partition once a move takes its replica away") {
    Harness h;  // node 0
    MetadataSync sync(h.ctx(), [](const std::string&) {}, [] {});
    TwoBrokers c;
    sync.apply(c.img);
    storage::PartitionLog* log = h.logs().log("moves", PartitionId(0));
    REQUIRE(log != nullptr);
    REQUIRE(storage::testing::append_records(*log, storage::testing::records_of(3), 3));

    c.apply(*c.ctl.alter_reassignment(c.img, "moves", 0, std::vector<NodeId>{NodeId(1)}));
    sync.apply(c.img);
    // Still a replica (being removed): the log and its records stay.
    REQUIRE(h.logs().log("moves", PartitionId(0)) != nullptr);
    CHECK(h.logs().log("moves", PartitionId(0))->log_end() == Offset(3));
    const PartitionState& ps = h.ctx().partitions.get("moves", PartitionId(0));
    CHECK(ps.adding == std::vector<NodeId>{NodeId(1)});
    CHECK(ps.removing == std::vector<NodeId>{NodeId(0)});
    auto d = h.json(R"({"op":"describe_topic","id":1,"topic":"moves"})");
    CHECK(d["partitions"][0]["adding"] == nlohmann::json::array({1}));
    CHECK(d["partitions"][0]["removing"] == nlohmann::json::array({0}));
    auto m = h.json(R"({"op":"metadata","id":2})");
    CHECK(m["topics"][0]["partitions"][0]["replicas"] == nlohmann::json::array({1, 0}));

    // The leader (node 0) puts node 1 in the ISR: the move completes.
    const coord::PartitionInfo& p = *c.img.partition("moves", 0);
    coord::AlterPartitionRequest grow{"moves", 0, NodeId(0), c.epoch(0), p.leader_epoch, p.partition_epoch,
                                      {NodeId(0), NodeId(1)}, {}};
    grow.member_epochs[1] = c.epoch(1);  // the registration node 0 saw node 1 fetch with
    c.apply(*c.ctl.alter_partition(c.img, grow));
    sync.apply(c.img);
    CHECK(h.logs().log("moves", PartitionId(0)) == nullptr);
    CHECK(!std::filesystem::exists(h.logs().data_dir() + "/moves-0"));
    CHECK(h.logs().topic("moves") != nullptr);  // the topic stays known
    CHECK(h.ctx().partitions.get("moves", PartitionId(0)).leader == NodeId(1));
    CHECK(h.ctx().partitions.get("moves", PartitionId(0)).adding.empty());
    // A fetch of it names the new leader rather than reading a removed log,
    // and the periodic work runs without the log.
    auto f = h.json(R"({"op":"fetch","id":3,"parts":[{"topic":"moves","partition":0,"offset":0}]})");
    CHECK(f["parts"][0]["error"]["code"] == "NOT_LEADER");
    h.ctx().compactor->tick();
    h.ctx().flusher->tick();

    // Moved back, it starts an empty log again (replication fills it).
    c.apply(*c.ctl.alter_reassignment(c.img, "moves", 0, std::vector<NodeId>{NodeId(0)}));
    sync.apply(c.img);
    REQUIRE(h.logs().log("moves", PartitionId(0)) != nullptr);
    CHECK(h.logs().log("moves", PartitionId(0))->log_end() == Offset(0));
  }

  TEST_CASE("alter_reassignment needs a cluster") {
    Harness h;
    auto r = h.json(R"({"op":"alter_reassignment","id":1,"topic":"t","partition":0,"replicas":[1]})");
    CHECK(r["ok"] == false);
    CHECK(r["error"]["code"] == "INVALID_REQUEST");
    CHECK(r["error"]["message"] == "moving replicas needs a cluster; this broker runs alone");
  }
}

}  // namespace
}  // namespace kreek::broker
