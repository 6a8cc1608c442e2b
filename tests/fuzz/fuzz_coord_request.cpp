// libFuzzer target: the coordinator protocol (kzk-lite(1)) as Coordinator::
// handle reads it, one '\n'-separated request per line, against a real
// MetadataLog on tmpfs. Writes are group-committed on worker threads and
// answered from the loop, so the loop runs only when the coordinator is
// rebuilt (every kInputsPerCoordinator inputs): answers, durability and
// parked long polls are exercised then. Limitation: an input sees the state
// earlier inputs of its batch left, so a crash may need them to reproduce.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "coord/coordinator.h"
#include "fuzz_util.h"
#include "net/net.h"

using namespace kreek;

namespace {

constexpr int kInputsPerCoordinator = 256;

struct Coord {
  fuzz::ScratchDir dir;
  std::unique_ptr<net::EventLoop> loop = net::EventLoop::create();
  std::unique_ptr<coord::Coordinator> c;

  Coord() {
    coord::CoordinatorConfig config;
    config.data_dir = dir.path() + "/kzk";
    config.listen = "127.0.0.1:0";
    config.max_request_bytes = 64 << 10;
    auto opened = coord::Coordinator::open(config, *loop);
    if (!opened.is_ok()) abort();
    c = std::move(*opened);
  }
  ~Coord() {
    c->stop([this] { loop->stop(); });
    (void)loop->run();
    c.reset();
  }
};

std::unique_ptr<Coord> g_coord;
int g_inputs = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!g_coord || ++g_inputs % kInputsPerCoordinator == 0) {
    fuzz::quiet();
    g_coord.reset();
    g_coord = std::make_unique<Coord>();
  }
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    g_coord->c->handle(line, "fuzz:1", [](std::string out) {
      if (out.empty() || out.find('\n') != out.size() - 1) abort();  // one line per answer
    });
  }
  return 0;
}
