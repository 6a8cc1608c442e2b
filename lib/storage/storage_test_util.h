// Helpers for the storage unit tests: a temp directory removed on scope exit,
// records arrays of a given size, reading a ReadResult's bytes back, small
// segment configs and whole-file access for damage tests.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
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

// The header the broker would stamp on `records` (n records at `base`),
// with the stored CRC over the records and that head.
inline BatchHeader stamped_header(std::string_view records, int64_t base, int32_t n, int32_t epoch,
                                  int64_t ts) {
  BatchHeader h;
  h.base = Offset(base);
  h.n = n;
  h.epoch = LeaderEpoch(epoch);
  h.ts = TimestampMs(ts);
  h.crc = batch_crc(crc_of(records), encode_batch_head(h));
  return h;
}

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

// A config with small segments so tests roll often.
inline LogConfig small_segments(int64_t segment_bytes = 2048, int64_t index_interval = 256) {
  LogConfig c;
  c.segment_bytes = segment_bytes;
  c.index_interval_bytes = index_interval;
  return c;
}

// Whole-file read and replace, for tests that damage segment files.
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
inline void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// The .log files of a partition directory, in offset order.
inline std::vector<std::string> log_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".log") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace kreek::storage::testing
