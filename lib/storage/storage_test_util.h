// Helpers for the storage unit tests: a temp directory removed on scope exit,
// records arrays of a given size, and reading a ReadResult's bytes back.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/crc32c.h"
#include "storage/partition_log.h"

namespace kreek::storage::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/kreek-storage-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    path_ = d ? d : "/tmp/kreek-storage-failed";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// `[{"value":"<tag>xxxx"},...]`: n records, each value padded to value_bytes.
inline std::string records_of(int n, size_t value_bytes = 10, const std::string& tag = "v") {
  std::string out = "[";
  for (int i = 0; i < n; ++i) {
    if (i) out += ',';
    std::string v = tag + std::to_string(i);
    if (v.size() < value_bytes) v.append(value_bytes - v.size(), 'x');
    out += "{\"value\":\"" + v + "\"}";
  }
  out += "]";
  return out;
}

inline uint32_t crc_of(std::string_view records) { return crc32c::value(records); }

// Appends `records` as one batch (epoch 0) at time `now`.
inline Result<AppendResult> append_records(PartitionLog& log, const std::string& records, int n,
                                           int64_t now = 1'700'000'000'000) {
  return log.append(records, n, crc_of(records), LeaderEpoch(0), TimestampMs(now));
}

// Concatenated bytes of every slice.
inline std::string bytes_of(const ReadResult& r) {
  std::string out;
  for (const auto& s : r.slices) {
    auto b = read_slice(s);
    if (b) out += *b;
  }
  return out;
}

// The parsed batches of whole lines.
inline std::vector<BatchHeader> headers_of(std::string_view bytes) {
  std::vector<BatchHeader> out;
  while (!bytes.empty()) {
    auto p = parse_batch(bytes);
    if (!p) break;
    out.push_back(p->header);
    bytes.remove_prefix(p->line_bytes);
  }
  return out;
}

}  // namespace kreek::storage::testing
