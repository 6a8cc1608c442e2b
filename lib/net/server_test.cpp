// Server and connections over real loopback sockets: ordering of pipelined
// responses, oversize lines, half-close, zero-copy file ranges, resets,
// backpressure and busy ports. Clients run on worker threads via queue_work,
// and the loop stops when they are done.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "net/net.h"
#include "net/test_client.h"

using namespace kreek::net;
using kreek::Code;
using kreek::net::testing::TestClient;

namespace {
// Echoes each line back with a newline.
ConnectionHandler echo_handler() {
  ConnectionHandler h;
  h.on_line = [](Connection&, std::string_view line, ResponseSlot slot) {
    slot.complete(std::string(line) + "\n");
  };
  return h;
}

std::unique_ptr<Server> must_listen(EventLoop& loop, ConnectionHandler h, ServerOptions o = {}) {
  auto r = loop.listen("127.0.0.1:0", o, std::move(h));
  REQUIRE(r.is_ok());
  return std::move(r).value();
}
}  // namespace

TEST_SUITE("net") {
  TEST_CASE("pipelined requests get responses in request order even when completed out of order") {
    auto loop = EventLoop::create();
    auto timer = loop->make_timer();
    int closes = 0;
    ConnectionHandler h;
    h.on_line = [&](Connection& c, std::string_view line, ResponseSlot slot) {
      if (line == "slow") {
        // Completed later, after the requests behind it have completed.
        timer->start(30, 0, [slot]() mutable { slot.complete("slow done\n"); });
      } else {
        slot.complete(std::string(line) + "\n");
      }
    };
    h.on_close = [&](Connection&) { ++closes; };
    auto server = must_listen(*loop, h);
    CHECK(server->address().rfind("127.0.0.1:", 0) == 0);
    CHECK(server->address() != "127.0.0.1:0");
    std::vector<std::string> got;
    std::string peer_seen;
    loop->queue_work(
        [&] {
          TestClient c(server->address());
          c.send_all("slow\nsecond\r\nthird\n");
          for (int i = 0; i < 3; ++i) got.push_back(c.read_line().value_or("<none>"));
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    CHECK(got == std::vector<std::string>{"slow done", "second", "third"});
    CHECK(closes == 1);
  }

  TEST_CASE("connections have increasing ids and an ip:port peer") {
    auto loop = EventLoop::create();
    std::vector<uint64_t> ids;
    std::vector<std::string> peers;
    ConnectionHandler h;
    h.on_line = [&](Connection& c, std::string_view, ResponseSlot slot) {
      ids.push_back(c.id());
      peers.push_back(c.peer());
      slot.complete("ok\n");
    };
    auto server = must_listen(*loop, h);
    loop->queue_work(
        [&] {
          for (int i = 0; i < 2; ++i) {
            TestClient c(server->address());
            c.send_all("x\n");
            c.read_line();
          }
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    REQUIRE(ids.size() == 2);
    CHECK(ids[0] < ids[1]);
    CHECK(peers[0].rfind("127.0.0.1:", 0) == 0);
    CHECK(peers[0] != peers[1]);
  }

  TEST_CASE("an oversize line gets exactly one on_oversize and the next line still works") {
    auto loop = EventLoop::create();
    ServerOptions o;
    o.max_line_bytes = 1 << 20;
    int oversize = 0;
    int64_t seen = 0;
    ConnectionHandler h = echo_handler();
    h.on_oversize = [&](Connection&, int64_t bytes_seen, ResponseSlot slot) {
      ++oversize;
      seen = bytes_seen;
      slot.complete("too large\n");
    };
    auto server = must_listen(*loop, h, o);
    std::vector<std::string> got;
    loop->queue_work(
        [&] {
          TestClient c(server->address());
          std::string chunk(1 << 20, 'x');
          for (int i = 0; i < 100; ++i)  // 100 MiB with no newline
            if (!c.send_all(chunk)) return;
          c.send_all("end of the long line\nping\n");
          for (int i = 0; i < 2; ++i) got.push_back(c.read_line().value_or("<none>"));
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    CHECK(got == std::vector<std::string>{"too large", "ping"});
    CHECK(oversize == 1);
    CHECK(seen > (1 << 20));
    CHECK(seen <= (1 << 20) + (64 << 10));
  }

  TEST_CASE("a client that shuts down its write side still gets every response") {
    auto loop = EventLoop::create();
    auto timer = loop->make_timer();
    std::vector<std::pair<ResponseSlot, std::string>> held;
    ConnectionHandler h;
    h.on_line = [&](Connection&, std::string_view line, ResponseSlot slot) {
      held.emplace_back(std::move(slot), std::string(line) + "\n");
      timer->start(20, 0, [&] {
        for (auto& [s, reply] : held) s.complete(reply);
        held.clear();
      });
    };
    auto server = must_listen(*loop, h);
    std::optional<std::string> all;
    loop->queue_work(
        [&] {
          TestClient c(server->address());
          // The last line has no newline: end of stream ends it (nc without -C).
          c.send_all("a\nb\nlast");
          c.shutdown_write();
          all = c.read_to_eof();
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    CHECK(all == std::optional<std::string>("a\nb\nlast\n"));
  }

  TEST_CASE("file ranges are sent byte for byte between buffers") {
    char path[] = "/tmp/kreek-net-test-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    unlink(path);
    std::string content(3 << 20, '\0');  // larger than a socket buffer
    for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    auto keep = std::shared_ptr<const void>(nullptr, [fd](const void*) { ::close(fd); });

    auto loop = EventLoop::create();
    ConnectionHandler h;
    h.on_line = [&](Connection&, std::string_view line, ResponseSlot slot) {
      if (line == "fetch") {
        Response r;
        r.head = "head\n";
        r.ranges.push_back(FileRange{fd, 100, static_cast<int64_t>(content.size()) - 200, keep});
        r.ranges.push_back(FileRange{fd, 0, 10, keep});
        r.ranges.push_back(FileRange{fd, 5, 0, keep});  // empty: sends nothing
        slot.complete(std::move(r));
      } else {
        slot.complete(std::string(line) + "\n");
      }
    };
    auto server = must_listen(*loop, h);
    std::optional<std::string> head, body, after;
    loop->queue_work(
        [&] {
          TestClient c(server->address());
          c.send_all("fetch\nafter\n");
          head = c.read_line();
          body = c.read_exact(content.size() - 200 + 10);
          after = c.read_line();
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    CHECK(head == std::optional<std::string>("head"));
    REQUIRE(body);
    CHECK(*body == content.substr(100, content.size() - 200) + content.substr(0, 10));
    CHECK(after == std::optional<std::string>("after"));
  }

  TEST_CASE("a client that disconnects mid-line does not disturb another connection") {
    for (bool rst : {false, true}) {
      CAPTURE(rst);
      auto loop = EventLoop::create();
      int closes = 0;
      ConnectionHandler h = echo_handler();
      h.on_close = [&](Connection&) { ++closes; };
      auto server = must_listen(*loop, h);
      std::vector<std::string> got;
      loop->queue_work(
          [&] {
            TestClient good(server->address());
            TestClient bad(server->address());
            bad.send_all("half a requ");
            good.send_all("one\n");
            got.push_back(good.read_line().value_or("<none>"));
            if (rst) bad.reset();
            else bad.close();
            usleep(20000);
            good.send_all("two\n");
            got.push_back(good.read_line().value_or("<none>"));
          },
          [&] { loop->stop(); });
      CHECK(loop->run() == 0);
      CHECK(got == std::vector<std::string>{"one", "two"});
      CHECK(closes == 2);
    }
  }

  TEST_CASE("a peer that does not read is paused and resumes without losing order") {
    auto loop = EventLoop::create();
    ServerOptions o;
    o.max_pending_output = 4096;
    std::vector<ResponseSlot> held;
    size_t max_held = 0;
    auto drain = loop->make_timer();
    ConnectionHandler h;
    h.on_line = [&](Connection&, std::string_view line, ResponseSlot slot) {
      if (line.size() > 3) {
        slot.complete(std::string(line) + "\n");  // long lines answer at once
        return;
      }
      held.push_back(std::move(slot));
      max_held = std::max(max_held, held.size());
    };
    // Completes held slots in reverse, in batches, to exercise the ordering.
    drain->start(5, 5, [&] {
      for (auto it = held.rbegin(); it != held.rend(); ++it) it->complete("s\n");
      held.clear();
    });
    auto server = must_listen(*loop, h, o);
    bool ok = true;
    constexpr int kShort = 5000, kLong = 3000;
    loop->queue_work(
        [&] {
          TestClient c(server->address());
          std::string req;
          for (int i = 0; i < kShort; ++i) req += "s\n";
          std::string pad(500, 'p');
          for (int i = 0; i < kLong; ++i) req += std::to_string(i) + pad + "\n";
          if (!c.send_all(req)) ok = false;
          for (int i = 0; i < kShort && ok; ++i) ok = c.read_line() == std::optional<std::string>("s");
          for (int i = 0; i < kLong && ok; ++i) ok = c.read_line() == std::optional<std::string>(std::to_string(i) + pad);
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    CHECK(ok);
    CHECK(max_held <= 1024);
  }

  TEST_CASE("close_all flushes responses still in flight, then closes") {
    auto loop = EventLoop::create();
    auto timer = loop->make_timer();
    std::unique_ptr<Server> server;
    ConnectionHandler h;
    h.on_line = [&](Connection&, std::string_view line, ResponseSlot slot) {
      server->close_all();
      timer->start(20, 0, [slot, &server]() mutable {
        CHECK(slot.connection_open());
        slot.complete("late\n");
        CHECK(server->connection_count() == 1);  // closes once written
      });
    };
    h.on_close = [&](Connection&) { server->stop_accepting(); };
    server = must_listen(*loop, h);
    std::optional<std::string> all;
    loop->queue_work(
        [&] {
          TestClient c(server->address());
          c.send_all("req\nnever read\n");
          all = c.read_to_eof();
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    CHECK(all == std::optional<std::string>("late\n"));
  }

  TEST_CASE("a slot completed after its connection was reset is dropped") {
    auto loop = EventLoop::create();
    auto timer = loop->make_timer();
    ResponseSlot kept;
    bool open_after = true;
    ConnectionHandler h;
    h.on_line = [&](Connection&, std::string_view, ResponseSlot slot) { kept = std::move(slot); };
    h.on_close = [&](Connection&) {
      open_after = kept.connection_open();
      kept.complete("nobody listens\n");
      loop->stop();
    };
    auto server = must_listen(*loop, h);
    loop->queue_work(
        [&] {
          TestClient c(server->address());
          c.send_all("req\n");
          usleep(20000);
          c.reset();
        },
        [] {});
    CHECK(loop->run() == 0);
    CHECK(!open_after);
  }

  TEST_CASE("an IPv6 listen address is reported in brackets") {
    auto loop = EventLoop::create();
    auto server = loop->listen("[::1]:0", {}, {});
    if (server.is_ok()) {  // hosts without IPv6 loopback skip the check
      CHECK((*server)->address().rfind("[::1]:", 0) == 0);
    } else {
      CHECK(server.status().code() == Code::kUnavailable);
    }
    loop->stop();
    CHECK(loop->run() == 0);
  }

  TEST_CASE("binding a busy port fails with UNAVAILABLE naming the address") {
    auto loop = EventLoop::create();
    auto first = must_listen(*loop, {});
    auto second = loop->listen(first->address(), {}, {});
    REQUIRE(!second.is_ok());
    CHECK(second.status().code() == Code::kUnavailable);
    CHECK(second.status().message() == "bind " + first->address() + ": Address already in use");
    auto bad = loop->listen("nonsense", {}, {});
    CHECK(bad.status().code() == Code::kInvalidRequest);
    loop->stop();
    CHECK(loop->run() == 0);
  }
}
