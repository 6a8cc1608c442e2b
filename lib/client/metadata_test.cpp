// Metadata parsing: numbers of the wrong type or size are protocol errors.
#include "client/metadata.h"

#include <doctest/doctest.h>

using namespace kreek;
using namespace kreek::client;

namespace {
Result<ClusterMeta> parse(const char* text) { return parse_metadata(proto::Json::parse(text)); }
}  // namespace

TEST_SUITE("client") {
  TEST_CASE("metadata with a leader of 1e300 or a string node id is a protocol error") {
    for (const char* bad : {
             R"({"brokers":[],"topics":[{"topic":"t","partitions":[{"partition":0,"leader":1e300}]}]})",
             R"({"brokers":[],"topics":[{"topic":"t","partitions":[{"partition":0,"leader":2147483648}]}]})",
             R"({"brokers":[],"topics":[{"topic":"t","partitions":[{"partition":1e10}]}]})",
             R"({"brokers":[],"topics":[{"topic":"t","partitions":[{"partition":0,"epoch":-1e300}]}]})",
             R"({"brokers":[{"node":"0","addr":"a:1"}],"topics":[]})",
             R"({"brokers":[{"node":3.5,"addr":"a:1"}],"topics":[]})",
         }) {
      CAPTURE(bad);
      auto m = parse(bad);
      CHECK(m.status().code() == Code::kProtocol);
    }
  }

  TEST_CASE("well-formed metadata parses, with leader -1 when absent") {
    auto m = parse(R"({"brokers":[{"node":0,"addr":"a:1"}],"topics":[{"topic":"t","partitions":)"
                   R"([{"partition":1,"leader":0,"replicas":[0,1e300]},{"partition":0}]}]})");
    REQUIRE(m.is_ok());
    CHECK(m->brokers.at(0) == "a:1");
    REQUIRE(m->topics.size() == 1);
    CHECK(m->topics[0].partitions[0].leader.value() == -1);
    CHECK(m->topics[0].partitions[1].leader.value() == 0);
    CHECK(m->topics[0].partitions[1].replicas.size() == 1);
  }
}
