// libFuzzer target: a broker's answers as the client reads them. The input is
// written to one end of a socketpair (then EOF) and a Cluster adopts the other
// end, so the bytes go through BrokerConnection's framing, parse_reply, the
// metadata parser and then, by the first byte: the consumer's fetch path
// (headers, raw parts, batch decoding, part errors), list_offsets, or the
// admin answers ktopic prints (describe_topic and describe_cluster, through
// the text ktopic shows, and list_topics).
#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "cli/topic_command.h"
#include "client/admin.h"
#include "client/cluster.h"
#include "client/consumer.h"
#include "fuzz_util.h"

using namespace kreek;

// Addresses come from the fuzzed metadata: the client must never really
// connect to them (or resolve them) from a fuzzer. These definitions in the
// executable take precedence over libc's.
extern "C" int connect(int, const struct sockaddr*, socklen_t) {
  errno = ECONNREFUSED;
  return -1;
}
extern "C" int getaddrinfo(const char*, const char*, const struct addrinfo*, struct addrinfo** res) {
  *res = nullptr;
  return EAI_NONAME;
}

namespace {

class NullSink : public client::RecordSink {
 public:
  bool on_record(const client::ConsumedRecord& r) override { return ++n < 100000; }
  int n = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > (100 << 10)) return 0;  // stays inside the socket buffer
  fuzz::quiet();
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) abort();
  int sndbuf = 1 << 20;
  ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  size_t off = 1;
  while (off < size) {
    ssize_t w = ::write(fds[1], data + off, size - off);
    if (w <= 0) abort();
    off += static_cast<size_t>(w);
  }
  ::shutdown(fds[1], SHUT_WR);

  client::ClientOptions o;
  o.brokers = {"fake:1"};
  o.request_timeout_ms = 1000;
  o.retry_backoff_ms = 0;
  o.retry_backoff_max_ms = 0;
  o.max_retries = 0;
  {
    client::Cluster cluster(o);
    cluster.adopt_connection(client::BrokerConnection::adopt(fds[0], "fake:1"));
    switch (data[0] % 5) {
      case 0: {
        client::ConsumerOptions co;
        co.topic = "t";
        co.max_bytes = 1 << 20;
        client::Consumer consumer(cluster, co);
        consumer.assign({client::Cursor{0, 0, -1, ""}, client::Cursor{1, 5, 10, ""}});
        NullSink sink;
        bool stopped = false;
        for (int i = 0; i < 3; ++i)
          if (!consumer.poll(sink, stopped).is_ok() || stopped) break;
        break;
      }
      case 1: {
        client::ConsumerOptions co;
        co.topic = "t";
        co.reset = client::ResetPolicy::kEarliest;
        client::Consumer consumer(cluster, co);
        (void)consumer.list_offsets({}, "latest");
        break;
      }
      case 2: {
        auto d = client::describe_topic(cluster, "t");
        if (d.is_ok()) (void)cli::describe_text(*d);  // what ktopic describe prints
        break;
      }
      case 3: {
        auto d = client::describe_cluster(cluster);
        if (d.is_ok()) (void)cli::cluster_text(*d);
        break;
      }
      case 4:
        (void)client::list_topics(cluster);
        break;
    }
  }
  ::close(fds[1]);
  return 0;
}
