// Broker address parsing and bootstrap failure messages.
#include "client/broker_connection.h"

#include <doctest/doctest.h>

#include "client/cluster.h"

using namespace kreek;

TEST_SUITE("client") {
  TEST_CASE("broker lists split on commas and keep their order") {
    auto r = client::parse_broker_list("127.0.0.1:9092, host:9093,");
    REQUIRE(r.is_ok());
    CHECK(r->size() == 2);
    CHECK((*r)[0] == "127.0.0.1:9092");
    CHECK((*r)[1] == "host:9093");
  }

  TEST_CASE("a broker address needs a host and a port") {
    CHECK_FALSE(client::parse_host_port("localhost").is_ok());
    CHECK_FALSE(client::parse_host_port(":9092").is_ok());
    CHECK_FALSE(client::parse_host_port("h:0").is_ok());
    CHECK_FALSE(client::parse_host_port("h:99999").is_ok());
    auto hp = client::parse_host_port("[::1]:9092");
    REQUIRE(hp.is_ok());
    CHECK(hp->host == "::1");
    CHECK(hp->port == 9092);
  }

  TEST_CASE("bootstrap with no reachable broker names the first one and is UNAVAILABLE") {
    client::ClientOptions o;
    // Port 1 on loopback: nothing listens there, so the connect is refused.
    o.brokers = {"127.0.0.1:1", "127.0.0.1:2"};
    o.connect_timeout_ms = 1000;
    client::Cluster cluster(o);
    Status s = cluster.bootstrap();
    CHECK(s.code() == Code::kUnavailable);
    CHECK(s.message() == "cannot connect to 127.0.0.1:1: Connection refused");
  }
}
