// BatchScanner: walks the batch lines of a segment file forward from a known
// batch boundary, either verifying every batch (recovery) or only finding
// boundaries (reads, index rebuilds). Memory stays at one window even for a
// line longer than it: such lines are streamed and their CRC computed on the way.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "storage/batch_format.h"
#include "storage/file.h"

namespace kreek::storage {

struct ScannedBatch {
  BatchHeader header;
  int64_t pos = 0;  // file position of the line's first byte
  int64_t len = 0;  // line bytes including '\n'
  int64_t end() const { return pos + len; }
};

class BatchScanner {
 public:
  enum class Mode {
    kBoundaries,  // prefix + framing only: no CRC (the read path trusts the file)
    kVerify,      // parse_batch's full checks, CRC included
  };
  static constexpr size_t kDefaultWindow = 64 << 10;

  // `file` must outlive the scanner; bytes appended after construction are not seen.
  BatchScanner(const File& file, int64_t pos, Mode mode, size_t window = kDefaultWindow);

  // Fills `out` with the next batch and returns true; false at the clean end of
  // the file (status() ok), at a torn final line (kNotFound), at a malformed or
  // mismatching line (kCorrupt) or on a read error (kIoError).
  bool next(ScannedBatch* out);
  const Status& status() const { return status_; }
  // Where the next batch starts; after a failure, where the bad line starts.
  int64_t pos() const { return pos_; }

 private:
  bool fill(int64_t at);
  bool stream_line(const BatchPrefix& prefix, ScannedBatch* out);
  bool fail(Status s);

  const File& file_;
  int64_t pos_;
  int64_t end_;
  Mode mode_;
  size_t window_;
  std::string buf_;      // file bytes [buf_pos_, buf_pos_ + buf_.size())
  int64_t buf_pos_ = 0;
  Status status_;
  bool done_ = false;
};

// The prefix of the batch line at `pos` (reads at most kMaxBatchPrefixBytes).
Result<BatchPrefix> read_batch_prefix(const File& file, int64_t pos);

}  // namespace kreek::storage
