// Test helpers for lib/coord: a cluster of N registered, unfenced brokers
// held as an image plus a controller, with shorthands that decide and apply.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "coord/controller.h"
#include "coord/metadata_image.h"
#include "coord/placement.h"

namespace kreek::coord::test {

struct Cluster {
  MetadataImage image;
  Controller controller;

  explicit Cluster(int brokers, ControllerConfig config = {}) : controller(config) {
    for (int n = 0; n < brokers; ++n) {
      auto r = controller.register_broker(
          image, RegisterBroker{NodeId(n), "inc-" + std::to_string(n), "dir-" + std::to_string(n),
                                "127.0.0.1:" + std::to_string(9092 + n), ""});
      REQUIRE(r.is_ok());
      apply(*r);
      heartbeat(n);
    }
  }

  void apply(const std::vector<Record>& records) {
    for (const Record& r : records) REQUIRE(image.apply(image.next_offset(), r).is_ok());
  }
  int64_t epoch(int node) const { return image.broker(NodeId(node))->broker_epoch; }
  // A heartbeat from a broker that has applied everything.
  void heartbeat(int node) {
    auto r = controller.heartbeat(image, HeartbeatRequest{NodeId(node), epoch(node),
                                                          image.next_offset() - 1, false});
    REQUIRE(r.is_ok());
    apply(r->records);
  }
  void create(const std::string& name, int32_t partitions, int32_t rf,
              std::map<std::string, std::string> config = {}) {
    auto r = controller.create_topic(image, CreateTopicRequest{name, "id-" + name, partitions, rf,
                                                               std::move(config), {}});
    REQUIRE(r.is_ok());
    apply(*r);
  }
  // The partition's leader sets its ISR.
  void alter_isr(const std::string& topic, int32_t p, std::vector<NodeId> isr) {
    const PartitionInfo& part = *image.partition(topic, p);
    AlterPartitionRequest req{topic, p, part.leader, epoch(part.leader.value()),
                              part.leader_epoch, part.partition_epoch, std::move(isr), {}};
    for (NodeId n : req.isr) req.member_epochs[n.value()] = epoch(n.value());
    auto r = controller.alter_partition(image, req);
    REQUIRE(r.is_ok());
    apply(*r);
  }
};

}  // namespace kreek::coord::test
