// parse_host_port and address formatting.
#include "net/address.h"

#include <doctest/doctest.h>

#include "net/net.h"

using kreek::Code;
using kreek::net::parse_host_port;

TEST_SUITE("net") {
  TEST_CASE("host:port splits into host and port") {
    std::string host;
    int port = -1;
    REQUIRE(parse_host_port("127.0.0.1:9092", host, port).is_ok());
    CHECK(host == "127.0.0.1");
    CHECK(port == 9092);
    REQUIRE(parse_host_port("localhost:0", host, port).is_ok());
    CHECK(host == "localhost");
    CHECK(port == 0);
  }

  TEST_CASE("an IPv6 host is written in brackets") {
    std::string host;
    int port = -1;
    REQUIRE(parse_host_port("[::1]:9092", host, port).is_ok());
    CHECK(host == "::1");
    CHECK(port == 9092);
    CHECK(parse_host_port("::1:9092", host, port).code() == Code::kInvalidRequest);
    CHECK(parse_host_port("[::1]", host, port).code() == Code::kInvalidRequest);
    CHECK(parse_host_port("[::1:9092", host, port).code() == Code::kInvalidRequest);
  }

  TEST_CASE("a missing host, missing port or out-of-range port is invalid") {
    std::string host = "unchanged";
    int port = -1;
    for (const char* bad : {"host", ":9092", "host:", "host:99999", "host:-1", "host:12ab", "", "[]:1"}) {
      CAPTURE(bad);
      auto s = parse_host_port(bad, host, port);
      CHECK(s.code() == Code::kInvalidRequest);
      CHECK(s.message().find(bad) != std::string::npos);
    }
    CHECK(host == "unchanged");
  }

  TEST_CASE("addresses resolve for bind and format back as ip:port") {
    sockaddr_storage ss{};
    socklen_t len = 0;
    REQUIRE(kreek::net::resolve_address("127.0.0.1", 9092, ss, len).is_ok());
    CHECK(kreek::net::format_address(reinterpret_cast<sockaddr*>(&ss)) == "127.0.0.1:9092");
    REQUIRE(kreek::net::resolve_address("::1", 80, ss, len).is_ok());
    CHECK(kreek::net::format_address(reinterpret_cast<sockaddr*>(&ss)) == "[::1]:80");
  }
}
