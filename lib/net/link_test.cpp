// Outbound links against a real Server on 127.0.0.1 on the same loop: lines
// both ways, refused and timed-out connects, peer close, oversize lines, raw
// regions, destroying a link from its own callbacks, and stop(). Each test
// ends with run() == 0, which requires every handle to have closed.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/net.h"

using namespace kreek::net;
using kreek::Code;
using kreek::Status;

namespace {

ConnectionHandler echo_handler() {
  ConnectionHandler h;
  h.on_line = [](Connection&, std::string_view line, ResponseSlot slot) {
    slot.complete(std::string(line) + "\n");
  };
  return h;
}

std::unique_ptr<Server> must_listen(EventLoop& loop, ConnectionHandler h) {
  auto r = loop.listen("127.0.0.1:0", {}, std::move(h));
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

// A loopback socket bound to a port, with `backlog` >= 0 listening on it
// (never accepting), or bound only (connects are refused). Holding the fd
// keeps the port from being reused by anything else during the test.
struct RawSocket {
  int fd = -1;
  std::string address;
  explicit RawSocket(int backlog) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    socklen_t len = sizeof sa;
    REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
    if (backlog >= 0) REQUIRE(::listen(fd, backlog) == 0);
    address = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
  }
  ~RawSocket() { ::close(fd); }
};

// A listener whose accept queue is full, so it drops new SYNs and a connect
// to it never finishes (Linux: a backlog of 0 holds one connection; a second
// one waits in SYN_SENT, and so does everything after it).
struct FullListener {
  RawSocket listener{0};
  std::vector<int> fillers;
  FullListener() {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    getsockname(listener.fd, reinterpret_cast<sockaddr*>(&sa), &len);
    for (int i = 0; i < 2; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
      fillers.push_back(fd);
      if (i == 0) usleep(20000);  // the first handshake lands in the accept queue
    }
  }
  ~FullListener() {
    for (int fd : fillers) ::close(fd);
  }
  const std::string& address() const { return listener.address; }
};

// Records every callback of one link.
struct Recorder {
  int connected = 0;
  std::vector<std::string> lines;
  std::string raw;
  int raw_chunks = 0;
  int raw_lasts = 0;
  size_t largest_chunk = 0;
  int closed = 0;
  Status why;

  LinkHandler handler(std::function<void(Recorder&)> after_close = {}) {
    LinkHandler h;
    h.on_connected = [this] { ++connected; };
    h.on_line = [this](std::string_view line) { lines.emplace_back(line); };
    h.on_raw = [this](std::string_view chunk, bool last) {
      raw.append(chunk);
      ++raw_chunks;
      largest_chunk = std::max(largest_chunk, chunk.size());
      if (last) ++raw_lasts;
    };
    h.on_closed = [this, after_close](Status s) {
      ++closed;
      why = s;
      if (after_close) after_close(*this);
    };
    return h;
  }
};

}  // namespace

TEST_SUITE("net") {
  TEST_CASE("a link connects, sends lines queued before and after the handshake, and reads the echo") {
    auto loop = EventLoop::create();
    auto server = must_listen(*loop, echo_handler());
    Recorder rec;
    std::unique_ptr<Link> link;
    LinkHandler h = rec.handler([&](Recorder&) { loop->stop(); });
    h.on_connected = [&] {
      ++rec.connected;
      CHECK(link->is_connected());
      CHECK(link->send("two\nthree\r\n"));
    };
    auto on_line = h.on_line;
    h.on_line = [&, on_line](std::string_view line) {
      on_line(line);
      if (rec.lines.size() == 3) link->close();
    };
    link = loop->connect(server->address(), {}, h);
    CHECK(link->peer() == server->address());
    CHECK(link->is_open());
    CHECK(!link->is_connected());
    CHECK(link->send("one\n"));  // waits for the handshake
    CHECK(loop->run() == 0);
    CHECK(rec.connected == 1);
    CHECK(rec.lines == std::vector<std::string>{"one", "two", "three"});
    CHECK(rec.closed == 1);
    CHECK(rec.why.is_ok());
    CHECK(!link->is_open());
    CHECK(!link->send("late\n"));  // inert after on_closed
  }

  TEST_CASE("a refused connect reports on_closed once, from the loop") {
    auto loop = EventLoop::create();
    RawSocket bound(-1);  // bound, not listening: the kernel refuses
    Recorder rec;
    auto link = loop->connect(bound.address, {}, rec.handler([&](Recorder&) { loop->stop(); }));
    CHECK(rec.closed == 0);  // never from inside connect()
    CHECK(loop->run() == 0);
    CHECK(rec.closed == 1);
    CHECK(rec.connected == 0);
    CHECK(rec.why.code() == Code::kUnavailable);
    CHECK(rec.why.message() == "connect " + bound.address + ": Connection refused");
  }

  TEST_CASE("a malformed address is reported through on_closed as well") {
    auto loop = EventLoop::create();
    Recorder rec;
    auto link = loop->connect("no-port-here", {}, rec.handler([&](Recorder&) { loop->stop(); }));
    CHECK(rec.closed == 0);
    CHECK(loop->run() == 0);
    CHECK(rec.closed == 1);
    CHECK(rec.why.code() == Code::kInvalidRequest);
  }

  TEST_CASE("a connect that gets no answer times out") {
    FullListener full;
    auto loop = EventLoop::create();
    Recorder rec;
    LinkOptions o;
    o.connect_timeout_ms = 100;
    auto link = loop->connect(full.address(), o, rec.handler([&](Recorder&) { loop->stop(); }));
    CHECK(loop->run() == 0);
    CHECK(rec.closed == 1);
    CHECK(rec.connected == 0);
    CHECK(rec.why.code() == Code::kTimeout);
    CHECK(rec.why.message() == "connect " + full.address() + ": timed out after 100 ms");
  }

  TEST_CASE("a peer that closes ends the link after the lines it sent") {
    auto loop = EventLoop::create();
    ConnectionHandler sh;
    sh.on_line = [](Connection& c, std::string_view line, ResponseSlot slot) {
      slot.complete(std::string(line) + "\n");
      if (line == "bye") c.close();
    };
    auto server = must_listen(*loop, sh);
    Recorder rec;
    auto link = loop->connect(server->address(), {}, rec.handler([&](Recorder&) { loop->stop(); }));
    CHECK(link->send("hi\nbye\n"));
    CHECK(loop->run() == 0);
    CHECK(rec.lines == std::vector<std::string>{"hi", "bye"});
    CHECK(rec.closed == 1);
    CHECK(rec.why.code() == Code::kUnavailable);
    CHECK(rec.why.message() == "read " + server->address() + ": connection closed by peer");
  }

  TEST_CASE("a line over max_line_bytes closes the link with MESSAGE_TOO_LARGE") {
    auto loop = EventLoop::create();
    auto server = must_listen(*loop, echo_handler());
    Recorder rec;
    LinkOptions o;
    o.max_line_bytes = 16;
    auto link = loop->connect(server->address(), o, rec.handler([&](Recorder&) { loop->stop(); }));
    CHECK(link->send("sixteen bytes ok\n" + std::string(100, 'x') + "\nnever seen\n"));
    CHECK(loop->run() == 0);
    CHECK(rec.lines == std::vector<std::string>{"sixteen bytes ok"});
    CHECK(rec.closed == 1);
    CHECK(rec.why.code() == Code::kMessageTooLarge);
  }

  TEST_CASE("raw regions span reads and hand the bytes after them back as lines") {
    // "big" answers with a header, 200000 raw bytes (newlines included) and
    // two lines in one write: the region spans several 64 KiB reads and the
    // last read holds its tail plus the lines. "parts" announces two small
    // regions back to back; the second is requested from the first's last chunk.
    std::string big(200000, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 7 == 0 ? '\n' : 'a' + i % 26);
    auto loop = EventLoop::create();
    ConnectionHandler sh;
    sh.on_line = [&](Connection&, std::string_view line, ResponseSlot slot) {
      if (line == "big") slot.complete("raw 200000\n" + big + "after one\nafter two\n");
      else if (line == "parts") slot.complete("parts 5 7\nhello\nworld\n\nend\n");
      else slot.complete(std::string(line) + "\n");
    };
    auto server = must_listen(*loop, sh);
    std::unique_ptr<Link> link;
    Recorder rec;
    std::vector<std::string> raws;
    LinkHandler h = rec.handler([&](Recorder&) { loop->stop(); });
    h.on_line = [&](std::string_view line) {
      rec.lines.emplace_back(line);
      if (line == "raw 200000") link->expect_raw(200000);
      if (line == "parts 5 7") link->expect_raw(5);
      if (line == "end") link->close();
    };
    auto on_raw = h.on_raw;
    h.on_raw = [&](std::string_view chunk, bool last) {
      on_raw(chunk, last);
      if (!last) return;
      raws.push_back(rec.raw);
      rec.raw.clear();
      if (raws.size() == 2) link->expect_raw(7);  // "world\n\n": the second part
    };
    link = loop->connect(server->address(), {}, h);
    CHECK(link->send("big\nparts\n"));
    CHECK(loop->run() == 0);
    REQUIRE(raws.size() == 3);
    CHECK(raws[0] == big);
    CHECK(raws[1] == "hello");
    CHECK(raws[2] == "\nworld\n");
    CHECK(rec.raw_lasts == 3);
    CHECK(rec.raw_chunks > 4);  // 200000 bytes cannot come in fewer 64 KiB reads
    CHECK(rec.largest_chunk <= 64 << 10);
    CHECK(rec.lines == std::vector<std::string>{"raw 200000", "after one", "after two", "parts 5 7", "", "end"});
    CHECK(rec.why.is_ok());
    CHECK(link->raw_remaining() == 0);
  }

  TEST_CASE("a peer that closes inside a raw region ends the link as unavailable") {
    auto loop = EventLoop::create();
    ConnectionHandler sh;
    sh.on_line = [](Connection& c, std::string_view, ResponseSlot slot) {
      slot.complete("raw 100\nonly ten b\n");
      c.close();
    };
    auto server = must_listen(*loop, sh);
    std::unique_ptr<Link> link;
    Recorder rec;
    LinkHandler h = rec.handler([&](Recorder&) { loop->stop(); });
    h.on_line = [&](std::string_view) { link->expect_raw(100); };
    link = loop->connect(server->address(), {}, h);
    CHECK(link->send("go\n"));
    CHECK(loop->run() == 0);
    CHECK(rec.raw == "only ten b\n");
    CHECK(rec.raw_lasts == 0);
    CHECK(rec.why.code() == Code::kUnavailable);
    CHECK(rec.why.message().find("89 raw bytes still due") != std::string::npos);
  }

  TEST_CASE("a link destroyed from its own callback makes no further callbacks") {
    auto loop = EventLoop::create();
    ConnectionHandler sh;
    sh.on_line = [](Connection&, std::string_view, ResponseSlot slot) {
      slot.complete("raw 4\nabcdline one\nline two\n");
    };
    auto server = must_listen(*loop, sh);
    auto stopper = loop->make_timer();
    std::unique_ptr<Link> link;
    Recorder rec;
    LinkHandler h = rec.handler();
    auto record_line = h.on_line;
    auto record_raw = h.on_raw;
    auto drop = [&] {
      link.reset();
      // Anything still owed would arrive within a few iterations; give it time.
      stopper->start(30, 0, [&] { loop->stop(); });
    };
    int expected_lines = 0;
    SUBCASE("in on_connected") {
      h.on_connected = [&] {
        ++rec.connected;
        drop();
      };
    }
    SUBCASE("in on_line, with more lines buffered") {
      expected_lines = 2;  // "raw 4", "line one"
      h.on_line = [&](std::string_view line) {
        record_line(line);
        if (line == "raw 4") link->expect_raw(4);
        if (line == "line one") drop();
      };
      h.on_raw = [&](std::string_view chunk, bool last) { record_raw(chunk, last); };
    }
    SUBCASE("in on_raw") {
      h.on_line = [&](std::string_view line) {
        record_line(line);
        if (line == "raw 4") link->expect_raw(4);
      };
      h.on_raw = [&](std::string_view chunk, bool last) {
        record_raw(chunk, last);
        drop();
      };
      expected_lines = 1;
    }
    SUBCASE("in on_closed") {
      h.on_connected = [&] { link->close(); };
      h.on_closed = [&](Status s) {
        ++rec.closed;
        rec.why = s;
        drop();
      };
    }
    link = loop->connect(server->address(), {}, h);
    CHECK(link->send("go\n"));
    CHECK(loop->run() == 0);
    CHECK(link == nullptr);
    CHECK(static_cast<int>(rec.lines.size()) == expected_lines);
    CHECK(rec.closed <= 1);
    if (rec.closed == 1) CHECK(rec.why.is_ok());
  }

  TEST_CASE("close() reports on_closed(OK) later, from the loop, and drops what was not sent") {
    auto loop = EventLoop::create();
    auto server = must_listen(*loop, echo_handler());
    Recorder rec;
    auto link = loop->connect(server->address(), {}, rec.handler([&](Recorder&) { loop->stop(); }));
    CHECK(link->send("never sent\n"));
    link->close();
    link->close();
    CHECK(rec.closed == 0);
    CHECK(!link->is_open());
    CHECK(!link->send("refused\n"));
    CHECK(loop->run() == 0);
    CHECK(rec.closed == 1);
    CHECK(rec.why.is_ok());
    CHECK(rec.lines.empty());
  }

  TEST_CASE("send past max_pending_output fails and closes the link") {
    auto loop = EventLoop::create();
    RawSocket silent(16);  // the handshake completes in the kernel; nobody reads
    Recorder rec;
    std::unique_ptr<Link> link;
    LinkOptions o;
    o.max_pending_output = 1 << 20;
    int accepted = 0;
    LinkHandler h = rec.handler([&](Recorder&) { loop->stop(); });
    h.on_connected = [&] {
      std::string chunk(64 << 10, 'x');
      while (link->send(chunk)) ++accepted;
    };
    link = loop->connect(silent.address, o, h);
    CHECK(loop->run() == 0);
    CHECK(accepted == 16);
    CHECK(rec.why.code() == Code::kUnavailable);
    CHECK(rec.why.message().find("not reading") != std::string::npos);
  }

  TEST_CASE("stop closes links, which report unavailable, and later links are inert") {
    auto loop = EventLoop::create();
    auto server = must_listen(*loop, echo_handler());
    Recorder rec, connecting;
    FullListener full;
    auto link = loop->connect(server->address(), {}, rec.handler());
    auto pending = loop->connect(full.address(), {}, connecting.handler());
    auto h = rec.handler();
    h.on_connected = [&] { loop->stop(); };
    auto stopper = loop->connect(server->address(), {}, h);
    CHECK(loop->run() == 0);
    CHECK(rec.closed == 2);  // `link` and `stopper`
    CHECK(rec.why.code() == Code::kUnavailable);
    CHECK(connecting.closed == 1);
    CHECK(connecting.connected == 0);
    CHECK(connecting.why.code() == Code::kUnavailable);
    CHECK(connecting.why.message() == "link " + full.address() + ": event loop stopped");
    Recorder late;
    auto after = loop->connect(server->address(), {}, late.handler());
    CHECK(!after->is_open());
    CHECK(!after->send("x\n"));
    after->close();
    CHECK(late.closed == 0);
  }

  TEST_CASE("a link may outlive its loop") {
    auto loop = EventLoop::create();
    auto server = must_listen(*loop, echo_handler());
    Recorder rec;
    auto link = loop->connect(server->address(), {}, rec.handler());
    loop.reset();  // closes the link's handles; on_closed runs during the teardown
    CHECK(rec.closed == 1);
    CHECK(!link->send("x\n"));
    link->close();
    link.reset();
  }
}
