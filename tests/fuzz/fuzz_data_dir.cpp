// libFuzzer target: the data directory's own small files — meta.json, a
// topic's topics/t.json, partition.json and the recovery-point, replication
// and cleaner checkpoints — each written into a real data directory on tmpfs
// (holding topic "t") that LogManager::open then reads, as at start-up. The
// first byte picks the file; each input starts from the same directory.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "fuzz_util.h"
#include "storage/log_manager.h"

using namespace kreek;

namespace {

constexpr const char* kFiles[] = {"meta.json", "topics/t.json", "t-0/partition.json",
                                  "recovery-point-offset-checkpoint", "replication-offset-checkpoint",
                                  "cleaner-offset-checkpoint"};

struct DataDir {
  fuzz::ScratchDir dir;
  std::map<std::string, std::string> originals;
  DataDir() {
    {
      auto m = storage::LogManager::open(dir.path(), storage::LogConfig(), [](std::string_view) {});
      if (!m.is_ok() || !(*m)->create_topic("t", 1, {}).is_ok()) abort();
      if (!(*m)->write_recovery_checkpoint().is_ok()) abort();
      if (!(*m)->write_replication_checkpoint().is_ok()) abort();
    }
    for (const char* f : kFiles) {
      std::ifstream in(dir.path() + "/" + f);
      std::stringstream ss;
      ss << in.rdbuf();
      originals[f] = ss.str();
    }
  }
  void put(const std::string& f, std::string_view bytes) {
    std::ofstream(dir.path() + "/" + f, std::ios::trunc | std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static DataDir* d = [] {
    fuzz::quiet();
    return new DataDir();
  }();
  std::string f = kFiles[data[0] % 6];
  d->put(f, std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  { auto m = storage::LogManager::open(d->dir.path(), storage::LogConfig(), [](std::string_view) {}); }
  d->put(f, d->originals[f]);
  return 0;
}
