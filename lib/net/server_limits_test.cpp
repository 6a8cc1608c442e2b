// The server's protections of one client from another: a cap on open
// connections (a refusal line and a clean close beyond it), the idle and
// request-line timeouts, and the bound on unhandled request bytes. Clients run on worker threads via queue_work.
#include <doctest/doctest.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "net/net.h"
#include "net/test_client.h"

using namespace kreek::net;
using kreek::net::testing::TestClient;

namespace {
ConnectionHandler echo_handler() {
  ConnectionHandler h;
  h.on_line = [](Connection&, std::string_view line, ResponseSlot slot) {
    slot.complete(std::string(line) + "\n");
  };
  h.on_refused = [](Connection&, ResponseSlot slot) { slot.complete("refused\n"); };
  return h;
}

std::unique_ptr<Server> must_listen(EventLoop& loop, ConnectionHandler h, ServerOptions o) {
  auto r = loop.listen("127.0.0.1:0", o, std::move(h));
  REQUIRE(r.is_ok());
  return std::move(r).value();
}
}  // namespace

TEST_SUITE("net") {
  TEST_CASE("a connection over max_connections gets the refusal line and a clean close") {
    auto loop = EventLoop::create();
    ServerOptions o;
    o.max_connections = 2;
    auto server = must_listen(*loop, echo_handler(), o);
    std::string a, b, refused_reply, after_close;
    bool refused_clean = false;
    loop->queue_work(
        [&] {
          TestClient c1(server->address());
          TestClient c2(server->address());
          c1.send_all("a\n");
          c2.send_all("b\n");
          a = c1.read_line().value_or("<none>");
          b = c2.read_line().value_or("<none>");
          TestClient c3(server->address());
          auto all = c3.read_to_eof();  // nullopt on a reset or a hang (timeout)
          refused_clean = all.has_value();
          refused_reply = all.value_or("<error>");
          // A freed place is taken again once the server has seen the close.
          c1.close();
          for (int i = 0; i < 100 && after_close != "again"; ++i) {
            TestClient c4(server->address());
            c4.send_all("again\n");
            after_close = c4.read_line().value_or("<none>");
            if (after_close != "again") usleep(20'000);
          }
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    CHECK(a == "a");
    CHECK(b == "b");
    CHECK(refused_clean);
    CHECK(refused_reply == "refused\n");
    CHECK(after_close == "again");
  }

  TEST_CASE("an idle connection is closed, one with a parked request is not") {
    auto loop = EventLoop::create();
    auto timer = loop->make_timer();
    ServerOptions o;
    o.idle_timeout_ms = 100;
    ConnectionHandler h = echo_handler();
    h.on_line = [&](Connection&, std::string_view line, ResponseSlot slot) {
      if (line == "park") timer->start(400, 0, [slot]() mutable { slot.complete("unparked\n"); });
      else slot.complete(std::string(line) + "\n");
    };
    auto server = must_listen(*loop, h, o);
    std::optional<std::string> idle_end;
    std::string parked;
    loop->queue_work(
        [&] {
          TestClient idle(server->address());
          TestClient busy(server->address());
          busy.send_all("park\n");
          idle_end = idle.read_to_eof();  // closed well before the client's own timeout
          parked = busy.read_line().value_or("<closed>");
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    CHECK(idle_end == std::optional<std::string>(""));
    CHECK(parked == "unparked");
  }

  TEST_CASE("a request line that does not end in time closes the connection") {
    auto loop = EventLoop::create();
    ServerOptions o;
    o.line_timeout_ms = 100;
    auto server = must_listen(*loop, echo_handler(), o);
    std::optional<std::string> slow_end;
    std::string quick;
    loop->queue_work(
        [&] {
          TestClient slow(server->address());
          TestClient ok(server->address());
          slow.send_all("{\"op\":\"hel");
          slow_end = slow.read_to_eof();
          ok.send_all("fine\n");
          quick = ok.read_line().value_or("<closed>");
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    CHECK(slow_end == std::optional<std::string>(""));
    CHECK(quick == "fine");
  }

  TEST_CASE("over max_request_buffer_bytes the connection holding the most is shed, the others go on") {
    auto loop = EventLoop::create();
    ServerOptions o;
    o.max_request_buffer_bytes = 256 << 10;
    ConnectionHandler h = echo_handler();
    h.on_shed = [](Connection&, ResponseSlot slot) { slot.complete("shed\n"); };
    auto server = must_listen(*loop, std::move(h), o);
    std::optional<std::string> big_end;
    std::string small_reply, fresh_reply;
    loop->queue_work(
        [&] {
          TestClient small(server->address());
          TestClient big(server->address());
          small.send_all(std::string(100 << 10, 's'));  // 100 KiB of an unfinished line
          usleep(50'000);
          big.send_all(std::string(200 << 10, 'b'));  // 300 KiB in all: over the bound
          big_end = big.read_to_eof();
          small.send_all("\n");
          small_reply = small.read_line().value_or("<closed>");
          TestClient fresh(server->address());
          fresh.send_all("hello\n");
          fresh_reply = fresh.read_line().value_or("<closed>");
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    CHECK(big_end == std::optional<std::string>("shed\n"));
    CHECK(small_reply.size() == size_t{100} << 10);
    CHECK(fresh_reply == "hello");
  }
}
