// MetadataSync: the local data directory and partition table follow the
// cluster's metadata image — topics appear, grow, change config, move and go;
// a topic of the same name with another id replaces the old one's data; local
// topics the cluster never heard of are offered to it, never deleted.
#include "broker/metadata_sync.h"

#include <doctest/doctest.h>

#include "broker/broker_test_util.h"
#include "coord/controller.h"
#include "net/net.h"

namespace kreek::broker {
namespace {

using testing::Harness;

// A cluster of brokers 0 and 1, all live, as the coordinator would build it.
struct Image {
  coord::MetadataImage img;
  coord::Controller ctl;
  Image() {
    apply(ctl.init_cluster(img, "cluster-x"));
    for (int n = 0; n < 2; ++n) {
      apply(*ctl.register_broker(img, coord::RegisterBroker{NodeId(n), "i", "d" + std::to_string(n),
                                                            "127.0.0.1:909" + std::to_string(n), ""}));
      apply(ctl.heartbeat(img, {NodeId(n), img.next_offset() - 1, img.next_offset() - 1})->records);
    }
  }
  void apply(const std::vector<coord::Record>& rs) {
    for (const auto& r : rs) REQUIRE(img.apply(img.next_offset(), r).is_ok());
  }
  void create(const std::string& name, int32_t partitions, std::string id,
              std::map<std::string, std::string> config = {}) {
    apply(*ctl.create_topic(img, coord::CreateTopicRequest{name, std::move(id), partitions, 1, std::move(config), {}}));
  }
};

TEST_SUITE("broker cluster") {
  TEST_CASE("topics of the cluster get local logs and their partitions' leaders") {
    Harness h;
    std::vector<std::string> offered;
    MetadataSync sync(h.ctx(), [&](const std::string& t) { offered.push_back(t); }, [] {});
    Image c;
    c.create("orders", 4, "id-1", {{"retention.ms", "1000"}});
    sync.apply(c.img);
    const storage::TopicInfo* t = h.logs().topic("orders");
    REQUIRE(t != nullptr);
    CHECK(t->partitions == 4);
    CHECK(t->topic_id == "id-1");
    CHECK(t->overrides.at("retention.ms") == "1000");
    int led_here = 0;
    for (int32_t p = 0; p < 4; ++p) {
      const coord::PartitionInfo& info = *c.img.partition("orders", p);
      CHECK(h.ctx().partitions.get("orders", PartitionId(p)).leader == info.leader);
      CHECK((h.logs().log("orders", PartitionId(p)) != nullptr) == (info.leader == NodeId(0)));
      if (info.leader == NodeId(0)) ++led_here;
    }
    CHECK(led_here == 2);
    CHECK(h.ctx().brokers.size() == 2);
    CHECK(h.ctx().cluster_id == "cluster-x");
    CHECK(offered.empty());

    // Config and partition count follow the cluster.
    c.apply(*c.ctl.alter_topic_config(c.img, "orders", {{"retention.ms", "2000"}}));
    c.apply(*c.ctl.create_partitions(c.img, "orders", 6));
    sync.apply(c.img);
    CHECK(h.logs().topic("orders")->overrides.at("retention.ms") == "2000");
    CHECK(h.logs().topic("orders")->partitions == 6);
    // Logs only of the partitions this broker (node 0) is a replica of.
    for (int32_t p = 0; p < 6; ++p) {
      CAPTURE(p);
      bool replica = c.img.partition("orders", p)->is_replica(NodeId(0));
      CHECK((h.logs().log("orders", PartitionId(p)) != nullptr) == replica);
    }
  }

  TEST_CASE("a topic deleted in the cluster loses its local data, and one recreated under its name too") {
    Harness h;
    MetadataSync sync(h.ctx(), [](const std::string&) {}, [] {});
    Image c;
    c.create("t", 1, "old-id");
    sync.apply(c.img);
    REQUIRE(h.logs().topic("t") != nullptr);
    REQUIRE(h.call(R"({"op":"produce","id":1,"topic":"t","partition":0,"records":[{"value":"a"}]})").has_value());
    // Deleted and created again while this broker was away: the new topic starts empty.
    c.apply(*c.ctl.delete_topic(c.img, "t"));
    c.create("t", 1, "new-id");
    sync.apply(c.img);
    REQUIRE(h.logs().topic("t") != nullptr);
    CHECK(h.logs().topic("t")->topic_id == "new-id");
    CHECK(h.logs().log("t", PartitionId(0))->log_end() == Offset(0));
    c.apply(*c.ctl.delete_topic(c.img, "t"));
    sync.apply(c.img);
    CHECK(h.logs().topic("t") == nullptr);
  }

  TEST_CASE("a local topic the cluster never knew is offered to it, kept, then adopted") {
    Harness h;
    REQUIRE(h.logs().create_topic("legacy", 2, {}).is_ok());
    std::vector<std::string> offered;
    MetadataSync sync(h.ctx(), [&](const std::string& t) { offered.push_back(t); }, [] {});
    Image c;
    sync.apply(c.img);
    sync.apply(c.img);
    CHECK(offered == std::vector<std::string>{"legacy"});  // asked once
    REQUIRE(h.logs().topic("legacy") != nullptr);
    // The coordinator creates it with this broker as its only replica.
    c.apply(*c.ctl.create_topic(c.img, coord::CreateTopicRequest{"legacy", "adopted", 2, 1, {}, {{NodeId(0)}, {NodeId(0)}}}));
    sync.apply(c.img);
    CHECK(h.logs().topic("legacy")->topic_id == "adopted");
  }

  TEST_CASE("the logs of a topic of many partitions are made on a worker thread, then the image is applied again") {
    auto loop = net::EventLoop::create();
    Harness h({}, loop.get());
    Image c;
    int reapplied = 0;
    std::unique_ptr<MetadataSync> sync;
    auto hosted_here = [&](int32_t from, int32_t to) {
      int n = 0;
      for (int32_t p = from; p < to; ++p) {
        CAPTURE(p);
        bool replica = c.img.partition("wide", p)->is_replica(NodeId(0));
        CHECK((h.logs().log("wide", PartitionId(p)) != nullptr) == replica);
        if (replica) {
          ++n;
          CHECK(h.ctx().partitions.get("wide", PartitionId(p)).leader == c.img.partition("wide", p)->leader);
        }
      }
      return n;
    };
    sync = std::make_unique<MetadataSync>(h.ctx(), [](const std::string&) {}, [&] {
      ++reapplied;
      sync->apply(c.img);
      if (reapplied == 1) {
        // Created whole, and the partition table followed.
        REQUIRE(h.logs().topic("wide") != nullptr);
        CHECK(!h.logs().is_busy("wide"));
        CHECK(hosted_here(0, 200) >= 64);
        // Growing by many goes the same way; the partitions it had keep
        // their states meanwhile.
        c.apply(*c.ctl.create_partitions(c.img, "wide", 400));
        sync->apply(c.img);
        CHECK(h.logs().is_busy("wide"));
        CHECK(h.logs().topic("wide")->partitions == 200);
        return;
      }
      CHECK(h.logs().topic("wide")->partitions == 400);
      CHECK(hosted_here(200, 400) >= 64);
      loop->stop();
    });
    // About half of 400 partitions here: 600 descriptors, under a ulimit -n of 1024.
    c.create("wide", 200, "id-wide");
    sync->apply(c.img);
    // Not there yet: the logs are being made while the loop runs on.
    CHECK(h.logs().topic("wide") == nullptr);
    CHECK(h.logs().is_busy("wide"));
    // Applying again meanwhile starts nothing twice.
    sync->apply(c.img);
    CHECK(loop->run() == 0);
    CHECK(reapplied == 2);
  }
}

}  // namespace
}  // namespace kreek::broker
