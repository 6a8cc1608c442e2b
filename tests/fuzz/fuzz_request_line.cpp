// libFuzzer target: bytes from a client socket as the broker frames and routes
// them — LineFramer splits lines (64 KiB limit), RequestRouter scans, checks
// the envelope and runs the op against a real LogManager on tmpfs, with topic
// "t" (2 partitions) present so produce, fetch and list_offsets reach storage.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker_context.h"
#include "broker/request_router.h"
#include "fuzz_util.h"
#include "net/line_framer.h"
#include "storage/log_manager.h"

using namespace kreek;

namespace {

constexpr int64_t kMaxLine = 64 << 10;
// The data dir is rebuilt after this many inputs, so disk use stays bounded
// however many produces the fuzzer finds.
constexpr int kInputsPerDir = 2000;

// The logs outlive inputs; the broker's state in memory does not (see
// LLVMFuzzerTestOneInput).
struct DataDir {
  fuzz::ScratchDir dir;
  broker::BrokerConfig config;
  std::unique_ptr<storage::LogManager> logs;

  DataDir() {
    config.data_dir = dir.path();
    config.max_request_bytes = kMaxLine;
    auto l = storage::LogManager::open(dir.path(), config.log_defaults, [](std::string_view) {});
    if (!l.is_ok()) abort();
    logs = std::move(*l);
  }

  // Back to topic "t" alone: what an input created goes, and "t" comes back
  // if an input deleted it. Otherwise topics pile up over thousands of inputs
  // and every metadata or metrics answer grows with them.
  void tidy() {
    std::vector<std::string> extra;
    for (const storage::TopicInfo* t : logs->topics())
      if (t->name != "t") extra.push_back(t->name);
    for (const std::string& name : extra)
      if (!logs->delete_topic(name).is_ok()) abort();
    if (logs->topic("t") == nullptr && !logs->create_topic("t", 2, {}).is_ok()) abort();
  }
};

std::unique_ptr<DataDir> g_dir;
int g_inputs = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!g_dir || ++g_inputs % kInputsPerDir == 0) {
    fuzz::quiet();
    g_dir.reset();
    g_dir = std::make_unique<DataDir>();
  }
  g_dir->tidy();
  // A fresh context per input: counters, groups and producer ids start empty,
  // so an answer depends on this input (and the logs), not on the thousands
  // before it; a metrics answer otherwise grows a histogram for every op ever
  // seen and came to cost most of the run.
  broker::BrokerContext ctx(g_dir->config, *g_dir->logs, nullptr);
  broker::RequestRouter router(ctx);
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
        router.on_line(ev.line, broker::Reply(sink), "fuzz:1", 1);
      } else {
        router.on_oversize(ev.bytes_seen, broker::Reply(sink), "fuzz:1");
      }
    }
  }
  if (auto tail = framer.take_tail()) {
    auto sink = std::make_shared<broker::ReplySink>();
    router.on_line(*tail, broker::Reply(sink), "fuzz:1", 1);
  }
  return 0;
}
