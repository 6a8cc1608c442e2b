// FakeBroker: one end of a socketpair adopted as a BrokerConnection, the other
// end written by the test with the reply lines a broker would send. Requests
// the client writes pile up unread in the socket buffer (tests keep them few).
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "client/broker_connection.h"
#include "client/cluster.h"

namespace kreek::client::testing {

inline constexpr const char* kFakeAddr = "fake:1";

// A metadata reply naming the fake broker as node 0, leader of topic t/0.
inline constexpr const char* kFakeMetadata =
    R"({"id":1,"ok":true,"brokers":[{"node":0,"addr":"fake:1"}],)"
    R"("topics":[{"topic":"t","partitions":[{"partition":0,"leader":0}]}]})";

class FakeBroker {
 public:
  FakeBroker() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_) == 0); }
  ~FakeBroker() {
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  // The client end, for a Cluster (adopt_connection) or direct use.
  std::unique_ptr<BrokerConnection> client_end() {
    auto c = BrokerConnection::adopt(fds_[0], kFakeAddr);
    fds_[0] = -1;
    return c;
  }
  // Writes `bytes` as the broker's answer; a newline is added when asked.
  void say(const std::string& bytes, bool newline = true) {
    std::string b = newline ? bytes + "\n" : bytes;
    REQUIRE(::write(fds_[1], b.data(), b.size()) == static_cast<ssize_t>(b.size()));
  }
  // Ends the broker's side of the stream (the client reads EOF; its writes still go through).
  void hang_up() { ::shutdown(fds_[1], SHUT_WR); }
  int broker_fd() const { return fds_[1]; }

 private:
  int fds_[2] = {-1, -1};
};

// A cluster whose only connection is `fake`'s client end.
inline std::unique_ptr<Cluster> fake_cluster(FakeBroker& fake) {
  ClientOptions o;
  o.brokers = {kFakeAddr};
  o.request_timeout_ms = 2000;
  o.retry_backoff_ms = 1;
  o.max_retries = 0;
  auto c = std::make_unique<Cluster>(o);
  c->adopt_connection(fake.client_end());
  return c;
}

}  // namespace kreek::client::testing
