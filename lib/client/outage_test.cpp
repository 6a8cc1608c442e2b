// OutageNotice: one line when waiting starts, one when it ends; the waiting
// text names the broker and the reason; backoff is capped.
#include "client/outage.h"

#include <doctest/doctest.h>

#include <vector>

#include "client/cluster.h"

using namespace kreek;
using namespace kreek::client;

TEST_SUITE("client") {
  TEST_CASE("the waiting message names the broker and why") {
    CHECK(waiting_message(Status(Code::kUnavailable, "cannot connect to 127.0.0.1:9092: Connection refused")) ==
          "waiting for broker 127.0.0.1:9092 (Connection refused)");
    CHECK(waiting_message(Status(Code::kUnavailable, "connection to 127.0.0.1:9092 closed by broker")) ==
          "waiting for broker 127.0.0.1:9092 (closed by broker)");
    CHECK(waiting_message(Status(Code::kTimeout, "timed out waiting for broker")) ==
          "waiting for broker (timed out waiting for broker)");
  }

  TEST_CASE("an outage is announced once and its end once") {
    std::vector<std::string> said;
    OutageNotice n;
    n.on_waiting = [&](const std::string& m) { said.push_back(m); };
    n.on_recovered = [&] { said.push_back("back"); };
    n.succeeded();
    n.failed(Status(Code::kNotLeader, "moved"));  // a leader move is no outage
    n.failed(Status(Code::kUnavailable, "connection to h:1 closed by broker"));  // the redial may work
    CHECK(said.empty());
    for (int i = 0; i < 5; ++i) n.failed(Status(Code::kUnavailable, "cannot connect to h:1: Connection refused"));
    n.succeeded();
    n.succeeded();
    REQUIRE(said.size() == 2);
    CHECK(said[0] == "waiting for broker h:1 (Connection refused)");
    CHECK(said[1] == "back");
  }

  TEST_CASE("retry backoff doubles from retry_backoff_ms up to retry_backoff_max_ms") {
    ClientOptions o;
    CHECK(backoff_ms(o, 0) == 100);
    CHECK(backoff_ms(o, 1) == 200);
    CHECK(backoff_ms(o, 3) == 800);
    CHECK(backoff_ms(o, 4) == 1000);
    CHECK(backoff_ms(o, 1000) == 1000);
  }
}
