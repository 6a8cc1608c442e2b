// HttpEndpoint against a real loop, clients on worker threads: a GET gets the
// handler's answer with Content-Length and a close; a head trickled in line by
// line within each line's timeout still gets 408 once the whole request is
// over its time; a connection over the cap gets 503; an unfinished request
// line is dropped without an answer. (The request grammar's 4xx answers are
// checked end to end in tests/integration/broker_metrics.sh.)
#include "net/http_endpoint.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

#include "net/test_client.h"

using namespace kreek::net;
using kreek::net::testing::TestClient;

namespace {

std::unique_ptr<HttpEndpoint> must_listen(EventLoop& loop, HttpOptions o) {
  auto r = HttpEndpoint::listen(loop, "127.0.0.1:0", o, [](std::string_view path) {
    return HttpResponse{200, "text/plain", "path " + std::string(path) + "\n"};
  });
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

std::string status_line(const std::optional<std::string>& response) {
  if (!response) return "<error>";
  return response->substr(0, response->find("\r\n"));
}

}  // namespace

TEST_SUITE("net") {
  TEST_CASE("http: a GET is answered with a length and a close") {
    auto loop = EventLoop::create();
    auto http = must_listen(*loop, HttpOptions{});
    std::optional<std::string> got;
    loop->queue_work(
        [&] {
          TestClient c(http->address());
          c.send_all("GET /metrics?x=1 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n");
          got = c.read_to_eof();
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    REQUIRE(got);
    CHECK(*got == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n"
                  "Cache-Control: no-store\r\nConnection: close\r\n\r\npath /metrics\n");
  }

  TEST_CASE("http: a head trickled in past the request's time gets 408") {
    auto loop = EventLoop::create();
    HttpOptions o;
    o.timeout_ms = 200;
    auto http = must_listen(*loop, o);
    std::optional<std::string> got;
    loop->queue_work(
        [&] {
          TestClient c(http->address());
          c.send_all("GET / HTTP/1.1\r\n");
          // Each line well within the per-line timeout; together past the request's.
          for (int i = 0; i < 6; ++i) {
            usleep(80'000);
            if (!c.send_all("X-Slow: " + std::to_string(i) + "\r\n")) break;
          }
          got = c.read_to_eof();
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    CHECK(status_line(got) == "HTTP/1.1 408 Request Timeout");
  }

  TEST_CASE("http: a connection over the cap gets 503; an unfinished line gets nothing") {
    auto loop = EventLoop::create();
    HttpOptions o;
    o.max_connections = 1;
    o.timeout_ms = 150;
    auto http = must_listen(*loop, o);
    std::optional<std::string> over, stalled;
    loop->queue_work(
        [&] {
          TestClient first(http->address());
          first.send_all("GET / HT");  // never finished: closed after the timeout
          TestClient second(http->address());
          over = second.read_to_eof();
          stalled = first.read_to_eof();
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    CHECK(status_line(over) == "HTTP/1.1 503 Service Unavailable");
    CHECK(stalled == std::optional<std::string>(""));
  }

  TEST_CASE("http: the response text of HEAD has the length but no body") {
    HttpResponse r{404, "text/plain", "nope\n"};
    std::string head = http_response_text(r, /*head_only=*/true);
    CHECK(head.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
    CHECK(head.find("Content-Length: 5\r\n") != std::string::npos);
    CHECK(head.size() >= 4);
    CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
  }
}
