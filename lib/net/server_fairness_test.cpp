// The server's protections of one client from clients that pipeline without
// reading their answers (a global bound on queued response memory, the send
// timeout) and from one that pipelines slow requests (a bounded turn per
// connection). Clients run on worker threads via queue_work.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "net/net.h"
#include "net/test_client.h"

using namespace kreek::net;
using kreek::net::testing::TestClient;

namespace {
using Clock = std::chrono::steady_clock;

std::unique_ptr<Server> must_listen(EventLoop& loop, ConnectionHandler h, ServerOptions o) {
  auto r = loop.listen("127.0.0.1:0", o, std::move(h));
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

// A client that sends without blocking and reads only when told to; a small
// receive buffer so the kernel absorbs little of what the server sends it.
class Hog {
 public:
  explicit Hog(const std::string& address) {
    size_t colon = address.rfind(':');
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 4096;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }
  ~Hog() { ::close(fd_); }
  // Sends what the socket takes of `data` from `sent` on; stops at EAGAIN.
  void push(const std::string& data) {
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }
  // Reads until `want` bytes arrived in all, EOF/error, or `limit` passes.
  // Returns false on EOF or error.
  bool drain(size_t want, std::chrono::milliseconds limit) {
    auto until = Clock::now() + limit;
    char buf[65536];
    while (got < want && Clock::now() < until) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return false;
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
        usleep(1000);
        continue;
      }
      got += static_cast<size_t>(n);
    }
    return true;
  }
  size_t sent = 0;
  size_t got = 0;

 private:
  int fd_ = -1;
};

ConnectionHandler echo_handler(std::atomic<int>* lines = nullptr) {
  ConnectionHandler h;
  h.on_line = [lines](Connection&, std::string_view line, ResponseSlot slot) {
    if (lines != nullptr) ++*lines;
    slot.complete(std::string(line) + "\n");
  };
  return h;
}
}  // namespace

TEST_SUITE("net") {
  TEST_CASE("responses queued for clients that do not read stay under max_queued_bytes") {
    auto loop = EventLoop::create();
    ServerOptions o;
    o.max_queued_bytes = 1 << 20;
    auto server = must_listen(*loop, echo_handler(), o);
    // Sampled on the loop: the most the server ever held.
    int64_t peak = 0;
    auto sampler = loop->make_timer();
    sampler->start(1, 1, [&] { peak = std::max(peak, server->queued_bytes()); });
    const std::string line(64 << 10, 'x');
    std::string stream;
    for (int i = 0; i < 200; ++i) stream += line + "\n";  // 12.8 MiB of answers each
    std::string polite;
    bool all_back = false;
    int64_t before_reading = 0;
    loop->queue_work(
        [&] {
          Hog a(server->address()), b(server->address());
          // Push until neither socket has taken anything for a while.
          for (int quiet = 0; quiet < 30;) {
            size_t was = a.sent + b.sent;
            a.push(stream);
            b.push(stream);
            quiet = a.sent + b.sent == was ? quiet + 1 : 0;
            usleep(10'000);
          }
          before_reading = server->queued_bytes();  // a racy read, only for the message
          TestClient ok(server->address());
          ok.send_all("still served\n");
          polite = ok.read_line().value_or("<none>");
          // Once they read, everything they sent comes back.
          for (int i = 0; i < 2000 && (a.got < a.sent || b.got < b.sent || a.sent < stream.size() ||
                                       b.sent < stream.size());
               ++i) {
            a.push(stream);
            b.push(stream);
            a.drain(stream.size(), std::chrono::milliseconds(5));
            b.drain(stream.size(), std::chrono::milliseconds(5));
          }
          all_back = a.got == stream.size() && b.got == stream.size();
        },
        [&] {
          sampler->stop();
          loop->stop();
        });
    CHECK(loop->run() == 0);
    INFO("queued before reading: " << before_reading);
    CHECK(polite == "still served");
    // One answer past the limit per connection at most.
    CHECK(peak <= (1 << 20) + 2 * static_cast<int64_t>(line.size() + 1));
    CHECK(peak > 0);
    CHECK(all_back);
    CHECK(server->queued_bytes() == 0);
  }

  TEST_CASE("a client that never reads is closed after send_timeout_ms") {
    auto loop = EventLoop::create();
    ServerOptions o;
    o.send_timeout_ms = 200;
    auto server = must_listen(*loop, echo_handler(), o);
    const std::string stream = [] {
      std::string s, line(64 << 10, 'y');
      for (int i = 0; i < 200; ++i) s += line + "\n";
      return s;
    }();
    bool closed = false;
    int64_t waited_ms = 0;
    loop->queue_work(
        [&] {
          Hog hog(server->address());
          auto t0 = Clock::now();
          for (int i = 0; i < 50; ++i) {
            hog.push(stream);
            usleep(10'000);
          }
          // Now read: the server must have hung up long before all came back.
          closed = !hog.drain(stream.size(), std::chrono::seconds(8)) && hog.got < stream.size();
          waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    CHECK(closed);
    CHECK(waited_ms < 5000);
    CHECK(server->queued_bytes() == 0);
  }

  TEST_CASE("one connection's pipelined slow requests do not starve another's") {
    auto loop = EventLoop::create();
    ConnectionHandler h;
    h.on_line = [](Connection&, std::string_view line, ResponseSlot slot) {
      if (line == "slow") {
        auto until = Clock::now() + std::chrono::milliseconds(20);
        while (Clock::now() < until) {
        }
      }
      slot.complete(std::string(line) + "\n");
    };
    auto server = must_listen(*loop, h, ServerOptions{});
    int64_t hello_ms = -1;
    size_t slow_answers = 0;
    loop->queue_work(
        [&] {
          TestClient heavy(server->address());
          TestClient light(server->address());
          std::string batch;
          for (int i = 0; i < 100; ++i) batch += "slow\n";  // 2 s of work in one write
          heavy.send_all(batch);
          usleep(50'000);
          auto t0 = Clock::now();
          light.send_all("hello\n");
          if (light.read_line() == std::optional<std::string>("hello"))
            hello_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
          while (slow_answers < 100 && heavy.read_line()) ++slow_answers;
        },
        [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    CHECK(slow_answers == 100);
    CHECK(hello_ms >= 0);
    CHECK(hello_ms < 500);  // waits for the slow request under way, not for all of them
  }
}
