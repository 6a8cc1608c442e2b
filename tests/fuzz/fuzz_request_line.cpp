// libFuzzer target: bytes from a client socket as the broker frames and routes
// them — LineFramer splits lines (64 KiB limit), RequestRouter scans, checks
// the envelope and runs the op against a real LogManager on tmpfs, with topic
// "t" (2 partitions) present so produce, fetch and list_offsets reach storage.
//
// Inputs asking for more than 16 partitions, or for metrics twice, are passed
// over (see passed_over): they, not long inputs, made this target slow down
// over a run.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/topic_name.h"
#include "broker/broker_context.h"
#include "broker/request_router.h"
#include "fuzz_util.h"
#include "net/line_framer.h"
#include "proto/json_scan.h"
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

// Inputs the run passes over (see passed_over), for they cost much and reach
// nothing cheaper inputs do not:
// - a line asking for more partitions than kMaxFuzzedPartitions
//   (create_topic, create_partitions), up to kreek's own limit: it makes
//   thousands of partition directories, and the next input pays for removing
//   them. In a 6,000 s run such inputs came to fill the corpus and the rate
//   fell from 900 inputs/s to under 100. Making and removing even 64
//   partitions was a quarter of a corpus replay, while 16 reach the same
//   code. Counts past the limit still run: they are refused, and cheaply.
// - a second metrics request: each answer is a few KB of JSON, which costs
//   ~10 ms under the sanitizers (0.3 ms in a release build), and the first
//   one already reaches all of the code.
// Lines are read with the broker's own scanner, so the filter sees what the
// broker would.
constexpr int64_t kMaxFuzzedPartitions = 16;

bool passed_over(std::string_view input) {
  proto::JsonScan scan;
  int metrics = 0;
  while (!input.empty()) {
    size_t end = input.find('\n');
    std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    if (!scan.scan(line).is_ok() || scan.at(0).type != proto::TokType::kObject) continue;
    int64_t n = 0;
    int64_t v = scan.find(0, "partitions");
    if (v >= 0 && scan.get_int(static_cast<uint32_t>(v), n) && n > kMaxFuzzedPartitions && n <= kMaxPartitions)
      return true;
    int64_t op = scan.find(0, "op");
    if (op >= 0 && scan.at(static_cast<uint32_t>(op)).type == proto::TokType::kString &&
        scan.get_string(static_cast<uint32_t>(op)) == "metrics" && ++metrics > 1)
      return true;
  }
  return false;
}

std::unique_ptr<DataDir> g_dir;
int g_inputs = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (passed_over(std::string_view(reinterpret_cast<const char*>(data), size))) return -1;  // not kept
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
