// libFuzzer target: bytes from a client socket as the broker frames and routes
// them — LineFramer splits lines (64 KiB limit), RequestRouter scans, checks
// the envelope and runs the op against a real LogManager on tmpfs, with topic
// "t" (2 partitions) present so produce, fetch and list_offsets reach storage.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "broker/broker_context.h"
#include "broker/request_router.h"
#include "fuzz_util.h"
#include "net/line_framer.h"
#include "storage/log_manager.h"

using namespace kreek;

namespace {

constexpr int64_t kMaxLine = 64 << 10;
// The data dir is rebuilt after this many inputs, so disk use and the topic
// count stay bounded however many produces the fuzzer finds.
constexpr int kInputsPerDir = 2000;

struct Broker {
  fuzz::ScratchDir dir;
  broker::BrokerConfig config;
  std::unique_ptr<storage::LogManager> logs;
  std::unique_ptr<broker::BrokerContext> ctx;
  std::unique_ptr<broker::RequestRouter> router;

  Broker() {
    config.data_dir = dir.path();
    config.max_request_bytes = kMaxLine;
    auto l = storage::LogManager::open(dir.path(), config.log_defaults, [](std::string_view) {});
    if (!l.is_ok()) abort();
    logs = std::move(*l);
    ctx = std::make_unique<broker::BrokerContext>(config, *logs, nullptr);
    router = std::make_unique<broker::RequestRouter>(*ctx);
    auto sink = std::make_shared<broker::ReplySink>();
    router->on_line(R"({"id":1,"op":"create_topic","topic":"t","partitions":2})", broker::Reply(sink));
  }
  ~Broker() {
    router.reset();
    ctx.reset();
    logs.reset();
  }
};

std::unique_ptr<Broker> g_broker;
int g_inputs = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!g_broker || ++g_inputs % kInputsPerDir == 0) {
    fuzz::quiet();
    g_broker.reset();
    g_broker = std::make_unique<Broker>();
  }
  net::LineFramer framer(kMaxLine);
  // Feed in two reads, as a socket might deliver it.
  size_t half = size / 2;
  for (auto [p, n] : {std::pair{data, half}, std::pair{data + half, size - half}}) {
    if (n > 0) {
      std::memcpy(framer.prepare(n), p, n);
      framer.commit(n);
    }
    for (;;) {
      auto ev = framer.next();
      if (ev.kind == net::LineFramer::Kind::kNone) break;
      auto sink = std::make_shared<broker::ReplySink>();
      if (ev.kind == net::LineFramer::Kind::kLine) {
        g_broker->router->on_line(ev.line, broker::Reply(sink), "fuzz:1", 1);
      } else {
        g_broker->router->on_oversize(ev.bytes_seen, broker::Reply(sink), "fuzz:1");
      }
    }
  }
  if (auto tail = framer.take_tail()) {
    auto sink = std::make_shared<broker::ReplySink>();
    g_broker->router->on_line(*tail, broker::Reply(sink), "fuzz:1", 1);
  }
  return 0;
}
