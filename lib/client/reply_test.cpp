// Replies that are not protocol: a foreign server is named as such, a kreek
// broker's bad line is a plain PROTOCOL_ERROR, and reply lines are bounded.
#include "client/reply.h"

#include <doctest/doctest.h>

#include <string>
#include <thread>

#include "client/fake_broker_test.h"

using namespace kreek;
using namespace kreek::client;
using namespace kreek::client::testing;

TEST_SUITE("client") {
  TEST_CASE("an HTTP server answering is named as not a kreek broker") {
    FakeBroker fake;
    auto cluster = fake_cluster(fake);
    fake.say("HTTP/1.0 400 Bad Request\r");
    auto t = cluster->topic("t", false);
    REQUIRE_FALSE(t.is_ok());
    CHECK(t.status().code() == Code::kProtocol);
    CHECK(t.status().message() == "fake:1 is not a kreek broker (it answered \"HTTP/1.0 400 Bad Request\")");
  }

  TEST_CASE("a peer that says something without a newline and hangs up is not a kreek broker") {
    FakeBroker fake;
    auto cluster = fake_cluster(fake);
    fake.say("garbage", /*newline=*/false);
    fake.hang_up();
    auto t = cluster->topic("t", false);
    REQUIRE_FALSE(t.is_ok());
    CHECK(t.status().code() == Code::kProtocol);
    CHECK(t.status().message() ==
          "fake:1 is not a kreek broker (it answered \"garbage\" and closed the connection)");
  }

  TEST_CASE("a bad line after good replies is a malformed response, not a foreign peer") {
    FakeBroker fake;
    auto conn = fake.client_end();
    fake.say(R"({"id":1,"ok":true})");
    fake.say("garbage");
    auto l1 = conn->read_line(1000);
    REQUIRE(l1.is_ok());
    CHECK(parse_reply(*conn, *l1).is_ok());
    auto l2 = conn->read_line(1000);
    REQUIRE(l2.is_ok());
    auto r = parse_reply(*conn, *l2);
    CHECK(r.status().code() == Code::kProtocol);
    CHECK(r.status().message().find("malformed response") == 0);
    CHECK(conn->is_broken());
  }

  TEST_CASE("samples of foreign answers are short and escaped") {
    CHECK(printable_sample("a\"b\x01") == "a\\x22b\\x01");
    CHECK(printable_sample(std::string(100, 'x'), 4) == "xxxx...");
  }

  TEST_CASE("a reply line longer than the bound is a protocol error, not unbounded growth") {
    FakeBroker fake;
    auto conn = fake.client_end();
    // More than the bound without a newline, written while the client reads.
    std::thread writer([&] {
      std::string chunk(1 << 20, 'x');
      size_t left = kMaxReplyLineBytes + 1;
      while (left > 0) {
        size_t n = std::min(left, chunk.size());
        ssize_t w = ::write(fake.broker_fd(), chunk.data(), n);
        if (w <= 0) break;
        left -= static_cast<size_t>(w);
      }
    });
    auto line = conn->read_line(5000);
    writer.join();
    REQUIRE_FALSE(line.is_ok());
    CHECK(line.status().code() == Code::kProtocol);
    CHECK(line.status().message() == "reply line from fake:1 exceeds 16777216 bytes");
  }

  TEST_CASE("read_exact refuses a size no reply may carry before allocating it") {
    FakeBroker fake;
    auto conn = fake.client_end();
    auto r = conn->read_exact(size_t{9223372036854775807ULL}, 100);
    CHECK(r.status().code() == Code::kProtocol);
  }
}
