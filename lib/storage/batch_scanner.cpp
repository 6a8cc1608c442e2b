// BatchScanner: windowed forward scan over batch lines (see batch_scanner.h).
#include "storage/batch_scanner.h"

#include <algorithm>
#include <cstring>

#include "base/crc32c.h"

namespace kreek::storage {

BatchScanner::BatchScanner(const File& file, int64_t pos, Mode mode, size_t window)
    : file_(file),
      pos_(pos),
      end_(file.size()),
      mode_(mode),
      // Two prefixes' worth at least, so a window always holds a whole prefix.
      window_(std::max<size_t>(window, 2 * kMaxBatchPrefixBytes)) {}

bool BatchScanner::fail(Status s) {
  status_ = std::move(s);
  done_ = true;
  return false;
}

bool BatchScanner::fill(int64_t at) {
  size_t want = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(window_), end_ - at));
  buf_.resize(want);
  auto got = file_.pread(at, buf_.data(), want);
  if (!got) return fail(got.status());
  buf_.resize(*got);
  buf_pos_ = at;
  if (*got < want) return fail(io_error("read segment: file shrank while scanning"));
  return true;
}

bool BatchScanner::next(ScannedBatch* out) {
  if (done_) return false;
  if (pos_ >= end_) {
    done_ = true;
    return false;
  }
  int64_t buf_end = buf_pos_ + static_cast<int64_t>(buf_.size());
  if (pos_ < buf_pos_ || pos_ >= buf_end) {
    if (!fill(pos_)) return false;
    buf_end = buf_pos_ + static_cast<int64_t>(buf_.size());
  }
  std::string_view view(buf_.data() + (pos_ - buf_pos_), static_cast<size_t>(buf_end - pos_));
  const void* nl = std::memchr(view.data(), '\n', view.size());
  if (nl == nullptr && buf_end < end_ && buf_pos_ != pos_) {
    // The line may continue past the window: re-read with the window at pos_.
    if (!fill(pos_)) return false;
    buf_end = buf_pos_ + static_cast<int64_t>(buf_.size());
    view = std::string_view(buf_.data(), buf_.size());
    nl = std::memchr(view.data(), '\n', view.size());
  }

  if (nl != nullptr) {
    std::string_view line = view.substr(0, static_cast<const char*>(nl) - view.data() + 1);
    if (mode_ == Mode::kVerify) {
      auto parsed = parse_batch(line);
      if (!parsed) return fail(parsed.status());
      out->header = parsed->header;
    } else {
      auto prefix = parse_batch_prefix(line);
      if (!prefix) {
        if (prefix.status().code() == Code::kNotFound)
          return fail(corrupt("batch line ends inside its prefix"));
        return fail(prefix.status());
      }
      size_t rs = prefix->prefix_bytes;
      if (line.size() < rs + 4 || line[rs] != '[' || line[line.size() - 3] != ']' ||
          line[line.size() - 2] != '}')
        return fail(corrupt("batch line does not end with a records array and \"}\""));
      out->header = prefix->header;
    }
    out->pos = pos_;
    out->len = static_cast<int64_t>(line.size());
    pos_ += out->len;
    return true;
  }

  auto prefix = parse_batch_prefix(view);
  if (!prefix) {
    if (prefix.status().code() == Code::kNotFound || buf_end >= end_)
      return fail(prefix.status().code() == Code::kNotFound
                      ? Status(Code::kNotFound, "incomplete batch line at end of segment")
                      : prefix.status());
    return fail(prefix.status());
  }
  if (buf_end >= end_) return fail(Status(Code::kNotFound, "incomplete batch line at end of segment"));
  return stream_line(*prefix, out);
}

// A line longer than the window: CRC the records chunk by chunk up to the
// newline. The byte before '\n' is held back from the CRC until we know it is
// not the closing '}' (records end one byte before it, at ']').
bool BatchScanner::stream_line(const BatchPrefix& prefix, ScannedBatch* out) {
  std::string_view view(buf_.data() + (pos_ - buf_pos_),
                        buf_.size() - static_cast<size_t>(pos_ - buf_pos_));
  size_t rs = prefix.prefix_bytes;
  if (view[rs] != '[') return fail(corrupt("batch records do not start with '['"));
  bool verify = mode_ == Mode::kVerify;
  // The stored crc extends the records' CRC over the head: keep the head,
  // the window is about to be overwritten.
  std::string head(view.substr(0, prefix.head_bytes));
  uint32_t crc = verify ? crc32c::extend(0, view.data() + rs, view.size() - rs - 1) : 0;
  char held = view.back();
  char prev = view[view.size() - 2];
  int64_t q = buf_pos_ + static_cast<int64_t>(buf_.size());
  for (;;) {
    if (q >= end_) return fail(Status(Code::kNotFound, "incomplete batch line at end of segment"));
    if (!fill(q)) return false;
    const char* chunk = buf_.data();
    const char* nl = static_cast<const char*>(std::memchr(chunk, '\n', buf_.size()));
    size_t upto = nl ? static_cast<size_t>(nl - chunk) : buf_.size();
    if (upto > 0) {
      if (verify) crc = crc32c::extend(crc, &held, 1);
      prev = held;
      if (upto >= 2) {
        if (verify) crc = crc32c::extend(crc, chunk, upto - 1);
        prev = chunk[upto - 2];
      }
      held = chunk[upto - 1];
    }
    if (nl != nullptr) {
      if (held != '}' || prev != ']')
        return fail(corrupt("batch line does not end with a records array and \"}\""));
      if (verify) crc = batch_crc(crc, head);
      if (verify && crc != prefix.header.crc)
        return fail(corrupt("batch crc " + std::to_string(prefix.header.crc) +
                            " does not match the computed crc " + std::to_string(crc)));
      int64_t line_end = q + static_cast<int64_t>(upto) + 1;
      out->header = prefix.header;
      out->pos = pos_;
      out->len = line_end - pos_;
      pos_ = line_end;
      return true;
    }
    q += static_cast<int64_t>(buf_.size());
  }
}

Result<BatchPrefix> read_batch_prefix(const File& file, int64_t pos) {
  char buf[kMaxBatchPrefixBytes];
  auto got = file.pread(pos, buf, sizeof buf);
  if (!got) return got.status();
  return parse_batch_prefix(std::string_view(buf, *got));
}

}  // namespace kreek::storage
