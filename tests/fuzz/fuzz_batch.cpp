// libFuzzer target: segment bytes as the storage engine reads them
// (parse_batch, parse_batch_prefix, BatchScanner in both modes over an
// in-memory file with a small window so long lines are streamed) and a
// batch line as the client decodes it (BatchDecoder).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_util.h"
#include "proto/batch_decoder.h"
#include "storage/batch_format.h"
#include "storage/batch_scanner.h"
#include "storage/file.h"

using namespace kreek;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  auto parsed = storage::parse_batch(bytes);
  if (parsed.is_ok() && parsed->line_bytes > bytes.size()) abort();
  auto prefix = storage::parse_batch_prefix(bytes);
  if (prefix.is_ok() && prefix->prefix_bytes > bytes.size()) abort();

  auto file = storage::make_mem_file(std::make_shared<std::string>(bytes));
  for (auto mode : {storage::BatchScanner::Mode::kBoundaries, storage::BatchScanner::Mode::kVerify}) {
    storage::BatchScanner scanner(*file, 0, mode, /*window=*/256);
    storage::ScannedBatch b;
    int64_t last_end = 0;
    while (scanner.next(&b)) {
      // Batches tile the file: each starts where the last ended.
      if (b.pos != last_end || b.len <= 0 || b.end() > static_cast<int64_t>(size)) abort();
      last_end = b.end();
    }
  }
  (void)storage::read_batch_prefix(*file, 0);

  proto::BatchDecoder dec;
  std::string_view rest = bytes, line;
  while (proto::take_line(rest, line)) {
    if (!dec.reset(line).is_ok()) continue;
    while (dec.next()) (void)dec.offset();
  }
  return 0;
}
