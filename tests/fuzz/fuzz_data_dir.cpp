// libFuzzer target: the data directory's own small files — meta.json, a
// topic's topics/t.json, the partition.json markers and the recovery-point,
// replication and cleaner checkpoints — each written into a real data
// directory on tmpfs that LogManager::open then reads, as at start-up. The
// first byte picks the file.
//
// Each input starts from the same directory: a fresh copy of a pristine one
// holding what start-up must sort out — topic "t" (1 partition), gone-0/
// (ours, of a topic whose file is gone: removed), t-1/ (another data
// directory's: left alone), a stranger file and directory, and an interrupted
// atomic write. Restoring only the fuzzed file was not enough: open acts on
// what it reads, and a topic file claiming 5,000 partitions left 5,000
// partition directories behind. Those piled up over an hour's run (6,600 in
// one directory), every open listed them, throughput halved, and no input
// could be replayed alone.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "base/json_value.h"
#include "base/topic_name.h"
#include "fuzz_util.h"
#include "storage/log_manager.h"

using namespace kreek;
namespace fs = std::filesystem;

namespace {

constexpr const char* kFiles[] = {"meta.json",
                                  "topics/t.json",
                                  "t-0/partition.json",
                                  "recovery-point-offset-checkpoint",
                                  "replication-offset-checkpoint",
                                  "cleaner-offset-checkpoint",
                                  "gone-0/partition.json",
                                  "t-1/partition.json"};
constexpr size_t kFileCount = sizeof kFiles / sizeof kFiles[0];

void must(bool ok) {
  if (!ok) abort();
}

struct Dirs {
  fuzz::ScratchDir scratch;
  std::string pristine = scratch.path() + "/pristine";
  std::string work = scratch.path() + "/work";

  Dirs() {
    std::string elsewhere = scratch.path() + "/elsewhere";
    {
      auto m = storage::LogManager::open(pristine, storage::LogConfig(), [](std::string_view) {});
      must(m.is_ok() && (*m)->create_topic("t", 1, {}).is_ok() && (*m)->create_topic("gone", 1, {}).is_ok());
      must((*m)->write_recovery_checkpoint().is_ok() && (*m)->write_replication_checkpoint().is_ok());
      auto other = storage::LogManager::open(elsewhere, storage::LogConfig(), [](std::string_view) {});
      must(other.is_ok() && (*other)->create_topic("t", 2, {}).is_ok());
    }
    std::error_code ec;
    must(fs::remove(pristine + "/topics/gone.json", ec));
    fs::copy(elsewhere + "/t-1", pristine + "/t-1", fs::copy_options::recursive, ec);
    must(!ec && fs::create_directory(pristine + "/photos-2023", ec));
    std::ofstream(pristine + "/notes.txt") << "not kreek's\n";
    std::ofstream(pristine + "/topics/.atomic-12-3.tmp") << "{\"name\":";
    fs::remove_all(elsewhere, ec);
  }

  // `work` as `pristine` was, with `file` holding `bytes`. A failure is
  // tried again, then reported and fatal: the copy once failed after 770,000
  // inputs, and the input it stopped at ran cleanly when replayed alone.
  void reset(const std::string& file, std::string_view bytes) {
    std::error_code ec;
    for (int attempt = 0; attempt < 3; ++attempt) {
      ec.clear();
      fs::remove_all(work, ec);
      if (!ec) fs::copy(pristine, work, fs::copy_options::recursive, ec);
      if (!ec) break;
    }
    if (ec) {
      std::fprintf(stderr, "fuzz_data_dir: cannot copy %s to %s: %s\n", pristine.c_str(), work.c_str(),
                   ec.message().c_str());
      abort();
    }
    std::ofstream(work + "/" + file, std::ios::trunc | std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
};

// A topic file claiming more partitions than this (but no more than kreek
// allows) is passed over: its open makes that many partition directories, up
// to 10,000 of them, and a few such inputs took most of the run's time while
// reaching nothing 64 do not. Counts past the limit still run: they are
// refused as corrupt, and cheaply.
constexpr int64_t kMaxFuzzedPartitions = 64;

bool makes_too_many_partitions(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return json_member_int(j, "partitions", kMaxFuzzedPartitions + 1, kMaxPartitions).has_value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // A static object, not a leaked one: its destructor removes the scratch
  // directory when the run exits.
  static Dirs& d = []() -> Dirs& {
    fuzz::quiet();
    static Dirs dirs;
    return dirs;
  }();
  const char* file = kFiles[data[0] % kFileCount];
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (std::string_view(file) == "topics/t.json" && makes_too_many_partitions(bytes)) return -1;  // not kept
  d.reset(file, bytes);
  { auto m = storage::LogManager::open(d.work, storage::LogConfig(), [](std::string_view) {}); }
  return 0;
}
