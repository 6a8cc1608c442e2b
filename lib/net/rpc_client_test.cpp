// RpcClient against a real Server on 127.0.0.1 on the same loop: id stamping,
// pipelined calls answered in order, deadlines, link failures, raw payloads
// after a header line, and destroying the client from a callback. Each test
// ends with run() == 0: every handle closed.
#include <doctest/doctest.h>

#include <charconv>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net/net.h"

using namespace kreek::net;
using kreek::Code;
using kreek::Result;
using kreek::Status;

namespace {

// The id RpcClient stamped into a request line ("{\"id\":7,...").
std::string request_id(std::string_view line) {
  size_t at = line.find("\"id\":");
  if (at == std::string_view::npos) return "null";
  size_t start = at + 5, end = line.find_first_of(",}", start);
  return std::string(line.substr(start, end - start));
}

// The request's "op" string, found by text; enough for these tests.
std::string request_op(std::string_view line) {
  size_t at = line.find("\"op\":\"");
  if (at == std::string_view::npos) return "";
  size_t start = at + 6;
  return std::string(line.substr(start, line.find('"', start) - start));
}

std::unique_ptr<Server> must_listen(EventLoop& loop, ConnectionHandler h) {
  auto r = loop.listen("127.0.0.1:0", {}, std::move(h));
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

// What one plain call got back.
struct Outcome {
  bool called = false;
  int times = 0;
  std::string line;
  Status status;
};

RpcClient::Callback record(Outcome& o) {
  return [&o](Result<std::string_view> r) {
    o.called = true;
    ++o.times;
    if (r.is_ok()) o.line = std::string(*r);
    else o.status = r.status();
  };
}

}  // namespace

TEST_SUITE("net") {
  TEST_CASE("pipelined calls are answered in order even when the server completes them out of order") {
    auto loop = EventLoop::create();
    auto timer = loop->make_timer();
    std::vector<ResponseSlot> slow;
    std::vector<std::string> seen_requests;
    ConnectionHandler sh;
    sh.on_line = [&](Connection&, std::string_view line, ResponseSlot slot) {
      seen_requests.emplace_back(line);
      std::string reply = "{\"id\":" + request_id(line) + ",\"ok\":true,\"op\":\"" + request_op(line) + "\"}\n";
      if (request_op(line) == "slow") {
        timer->start(20, 0, [slot, reply]() mutable { slot.complete(reply); });
      } else {
        slot.complete(reply);
      }
    };
    auto server = must_listen(*loop, sh);
    Status closed_with(Code::kInternal, "not closed");
    RpcClient client(*loop, server->address(), {}, [&](Status s) {
      closed_with = s;
      loop->stop();
    });
    std::vector<std::string> got;
    constexpr int kCalls = 50;
    for (int i = 0; i < kCalls; ++i) {
      std::string op = "n";
      op += std::to_string(i);  // not "n" + ...: GCC 12 warns falsely (-Wrestrict) on that
      if (i == 0) op = "slow";
      Status s = client.call("{\"op\":\"" + op + "\"}", [&, i](Result<std::string_view> r) {
        REQUIRE(r.is_ok());
        got.emplace_back(*r);
        if (i == kCalls - 1) client.close();
      });
      REQUIRE(s.is_ok());
    }
    CHECK(client.in_flight() == kCalls);
    CHECK(loop->run() == 0);
    CHECK(closed_with.is_ok());
    REQUIRE(got.size() == kCalls);
    CHECK(got[0] == "{\"id\":1,\"ok\":true,\"op\":\"slow\"}");
    for (int i = 1; i < kCalls; ++i) {
      CHECK(got[i] == "{\"id\":" + std::to_string(i + 1) + ",\"ok\":true,\"op\":\"n" + std::to_string(i) + "\"}");
    }
    REQUIRE(seen_requests.size() == kCalls);
    CHECK(seen_requests[1] == "{\"id\":2,\"op\":\"n1\"}");
  }

  TEST_CASE("request ids are stamped as the first member and checked on the way back") {
    auto loop = EventLoop::create();
    std::vector<std::string> seen;
    ConnectionHandler sh;
    sh.on_line = [&](Connection&, std::string_view line, ResponseSlot slot) {
      seen.emplace_back(line);
      std::string id = request_id(line);
      std::string op = request_op(line);
      if (op == "sorted") {
        // Keys in another order, and a nested "id" that is not the response's.
        slot.complete("{\"error\":{\"id\":99,\"s\":\"}\\\"id\\\":\"},\"id\":" + id + ",\"ok\":false}\n");
      } else if (op == "anonymous") {
        slot.complete("{\"id\":null,\"ok\":false}\n");  // what a server says to a line it cannot parse
      } else if (op == "wrong") {
        slot.complete("{\"id\":12345,\"ok\":true}\n");
      } else {
        slot.complete("{\"id\":" + id + ",\"ok\":true}\n");
      }
    };
    auto server = must_listen(*loop, sh);
    Status closed_with;
    int closes = 0;
    RpcClient client(*loop, server->address(), {}, [&](Status s) {
      ++closes;
      closed_with = s;
      loop->stop();
    });
    Outcome empty, sorted, anonymous, wrong, behind;
    CHECK(client.call("{}", record(empty)).is_ok());
    CHECK(client.call(" {\"op\":\"sorted\"}\n", record(sorted)).is_ok());
    CHECK(client.call("{\"op\":\"anonymous\"}", record(anonymous)).is_ok());
    CHECK(client.call("{\"op\":\"wrong\"}", record(wrong)).is_ok());
    CHECK(client.call("{\"op\":\"behind\"}", record(behind)).is_ok());
    Outcome never;
    CHECK(client.call("two\nlines", record(never)).code() == Code::kInvalidRequest);
    CHECK(client.call("[1,2]", record(never)).code() == Code::kInvalidRequest);
    CHECK(loop->run() == 0);
    REQUIRE(seen.size() >= 2);
    CHECK(seen[0] == "{\"id\":1}");
    CHECK(seen[1] == " {\"id\":2,\"op\":\"sorted\"}");
    CHECK(empty.line == "{\"id\":1,\"ok\":true}");
    CHECK(sorted.line.rfind("{\"error\":", 0) == 0);
    CHECK(anonymous.line == "{\"id\":null,\"ok\":false}");
    CHECK(wrong.status.code() == Code::kProtocol);
    CHECK(wrong.status.message().find("response id 12345 does not match request id 4") != std::string::npos);
    CHECK(behind.times == 1);
    CHECK(behind.status.code() == Code::kUnavailable);
    CHECK(!never.called);
    CHECK(closes == 1);
    CHECK(closed_with.code() == Code::kProtocol);
  }

  TEST_CASE("a call past its deadline fails with TIMEOUT and takes every pending call with it") {
    auto loop = EventLoop::create();
    std::vector<ResponseSlot> held;  // the server never answers
    ConnectionHandler sh;
    sh.on_line = [&](Connection&, std::string_view, ResponseSlot slot) { held.push_back(std::move(slot)); };
    auto server = must_listen(*loop, sh);
    Status closed_with;
    int closes = 0;
    std::unique_ptr<RpcClient> client;
    client = std::make_unique<RpcClient>(*loop, server->address(), RpcOptions{}, [&](Status s) {
      ++closes;
      closed_with = s;
      loop->stop();
    });
    Outcome first, quick, last;
    Status after_timeout;
    CHECK(client->call("{\"op\":\"first\"}", record(first)).is_ok());  // default 30 s
    CHECK(client->call("{\"op\":\"quick\"}",
                       [&](Result<std::string_view> r) {
                         record(quick)(r);
                         // Failures come after the link started closing.
                         after_timeout = client->call("{}", [](Result<std::string_view>) {});
                       },
                       50)
              .is_ok());
    CHECK(client->call("{\"op\":\"last\"}", record(last), 0).is_ok());  // no deadline of its own
    CHECK(loop->run() == 0);
    CHECK(quick.status.code() == Code::kTimeout);
    CHECK(first.status.code() == Code::kUnavailable);
    CHECK(first.status.message().find("call 2 timed out") != std::string::npos);
    CHECK(last.status.code() == Code::kUnavailable);
    CHECK(first.times == 1);
    CHECK(last.times == 1);
    CHECK(after_timeout.code() == Code::kUnavailable);
    CHECK(closes == 1);
    CHECK(closed_with.code() == Code::kTimeout);
    CHECK(!client->is_open());
  }

  TEST_CASE("pending calls fail with UNAVAILABLE when the peer closes or the connect is refused") {
    auto loop = EventLoop::create();
    ConnectionHandler sh;
    sh.on_line = [&](Connection& c, std::string_view line, ResponseSlot slot) {
      if (request_op(line) == "bye") {
        slot.complete_empty();
        c.close();
      } else {
        slot.complete("{\"id\":" + request_id(line) + ",\"ok\":true}\n");
      }
    };
    auto server = must_listen(*loop, sh);
    int closes = 0;
    Status closed_with;
    std::string address = server->address();
    SUBCASE("the peer closes") {}
    SUBCASE("the connect is refused") {
      server.reset();  // nothing listens on the port once the loop has closed it
    }
    std::unique_ptr<RpcClient> client;
    Outcome a, bye, b;
    auto start = loop->make_timer();
    start->start(server ? 0 : 20, 0, [&] {
      client = std::make_unique<RpcClient>(*loop, address, RpcOptions{}, [&](Status s) {
        ++closes;
        closed_with = s;
        loop->stop();
      });
      CHECK(client->call("{\"op\":\"a\"}", record(a)).is_ok());
      CHECK(client->call("{\"op\":\"bye\"}", record(bye)).is_ok());
      CHECK(client->call("{\"op\":\"b\"}", record(b)).is_ok());
    });
    CHECK(loop->run() == 0);
    CHECK(closes == 1);
    CHECK(closed_with.code() == Code::kUnavailable);
    CHECK(bye.status.code() == Code::kUnavailable);
    CHECK(b.status.code() == Code::kUnavailable);
    if (server) {
      CHECK(a.line == "{\"id\":1,\"ok\":true}");
    } else {
      CHECK(a.status.code() == Code::kUnavailable);
      CHECK(a.status.message().find("Connection refused") != std::string::npos);
    }
  }

  TEST_CASE("a raw call hands the bytes after its header to a sink before the next response is matched") {
    std::string payload(300000, '\0');
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i % 5 == 0 ? '\n' : 'A' + i % 23);
    auto loop = EventLoop::create();
    ConnectionHandler sh;
    sh.on_line = [&](Connection&, std::string_view line, ResponseSlot slot) {
      std::string id = request_id(line);
      if (request_op(line) == "fetch") {
        slot.complete("{\"id\":" + id + ",\"ok\":true,\"bytes\":" + std::to_string(payload.size()) + "}\n" + payload);
      } else if (request_op(line) == "empty") {
        slot.complete("{\"id\":" + id + ",\"ok\":true,\"bytes\":0}\n");
      } else {
        slot.complete("{\"id\":" + id + ",\"ok\":true}\n");
      }
    };
    auto server = must_listen(*loop, sh);
    RpcClient client(*loop, server->address(), {}, [&](Status) { loop->stop(); });
    auto bytes_of = [](std::string_view header) -> int64_t {
      size_t at = header.find("\"bytes\":");
      if (at == std::string_view::npos) return -1;
      int64_t n = -1;
      std::from_chars(header.data() + at + 8, header.data() + header.size(), n);
      return n;
    };
    std::string header, sink, empty_header;
    int lasts = 0, chunks = 0;
    Outcome before, after;
    CHECK(client.call("{\"op\":\"before\"}", record(before)).is_ok());
    RpcClient::RawCall fetch;
    fetch.on_header = [&](Result<std::string_view> r) -> int64_t {
      REQUIRE(r.is_ok());
      header = std::string(*r);
      return bytes_of(*r);
    };
    fetch.on_raw = [&](Result<std::string_view> chunk, bool last) {
      REQUIRE(chunk.is_ok());
      sink.append(*chunk);
      ++chunks;
      if (last) ++lasts;
    };
    CHECK(client.call_raw("{\"op\":\"fetch\"}", fetch).is_ok());
    RpcClient::RawCall none;
    none.on_header = [&](Result<std::string_view> r) -> int64_t {
      empty_header = std::string(*r);
      return 0;
    };
    none.on_raw = [&](Result<std::string_view>, bool) { FAIL("no raw bytes were announced"); };
    CHECK(client.call_raw("{\"op\":\"empty\"}", none).is_ok());
    CHECK(client.call("{\"op\":\"after\"}", [&](Result<std::string_view> r) {
      record(after)(r);
      client.close();
    }).is_ok());
    CHECK(loop->run() == 0);
    CHECK(before.line == "{\"id\":1,\"ok\":true}");
    CHECK(header == "{\"id\":2,\"ok\":true,\"bytes\":300000}");
    CHECK(sink == payload);
    CHECK(lasts == 1);
    CHECK(chunks > 1);
    CHECK(empty_header == "{\"id\":3,\"ok\":true,\"bytes\":0}");
    CHECK(after.line == "{\"id\":4,\"ok\":true}");
  }

  TEST_CASE("a raw call cut short by the link ends with one error chunk") {
    auto loop = EventLoop::create();
    ConnectionHandler sh;
    sh.on_line = [&](Connection& c, std::string_view line, ResponseSlot slot) {
      slot.complete("{\"id\":" + request_id(line) + ",\"ok\":true,\"bytes\":1000}\nonly part");
      c.close();
    };
    auto server = must_listen(*loop, sh);
    RpcClient client(*loop, server->address(), {}, [&](Status) { loop->stop(); });
    std::string got;
    std::vector<Status> errors;
    int lasts = 0;
    RpcClient::RawCall fetch;
    fetch.on_header = [](Result<std::string_view>) -> int64_t { return 1000; };
    fetch.on_raw = [&](Result<std::string_view> chunk, bool last) {
      if (chunk.is_ok()) got.append(*chunk);
      else errors.push_back(chunk.status());
      if (last) ++lasts;
    };
    CHECK(client.call_raw("{\"op\":\"fetch\"}", fetch).is_ok());
    CHECK(loop->run() == 0);
    CHECK(got == "only part");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].code() == Code::kUnavailable);
    CHECK(lasts == 1);
  }

  TEST_CASE("destroying the client from a callback drops the remaining calls silently") {
    auto loop = EventLoop::create();
    ConnectionHandler sh;
    sh.on_line = [&](Connection&, std::string_view line, ResponseSlot slot) {
      slot.complete("{\"id\":" + request_id(line) + ",\"ok\":true}\n");
    };
    auto server = must_listen(*loop, sh);
    int closes = 0;
    auto client = std::make_unique<RpcClient>(*loop, server->address(), RpcOptions{},
                                              [&](Status) { ++closes; });
    auto stopper = loop->make_timer();
    Outcome second, third;
    int first = 0;
    CHECK(client->call("{}", [&](Result<std::string_view>) {
      ++first;
      client.reset();
      stopper->start(30, 0, [&] { loop->stop(); });  // room for any stray callback
    }).is_ok());
    CHECK(client->call("{}", record(second)).is_ok());
    CHECK(client->call("{}", record(third)).is_ok());
    CHECK(loop->run() == 0);
    CHECK(first == 1);
    CHECK(!second.called);
    CHECK(!third.called);
    CHECK(closes == 0);
  }

  TEST_CASE("stop fails the calls in flight and closes the client's link") {
    auto loop = EventLoop::create();
    std::vector<ResponseSlot> held;
    ConnectionHandler sh;
    sh.on_line = [&](Connection&, std::string_view, ResponseSlot slot) {
      held.push_back(std::move(slot));
      loop->stop();
    };
    auto server = must_listen(*loop, sh);
    Status closed_with;
    RpcClient client(*loop, server->address(), {}, [&](Status s) { closed_with = s; });
    Outcome o;
    CHECK(client.call("{}", record(o)).is_ok());
    CHECK(loop->run() == 0);
    CHECK(o.status.code() == Code::kUnavailable);
    CHECK(closed_with.code() == Code::kUnavailable);
    CHECK(client.call("{}", record(o)).code() == Code::kUnavailable);
    held.clear();
  }
}
