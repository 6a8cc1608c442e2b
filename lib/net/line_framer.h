// LineFramer: splits a byte stream into '\n'-terminated lines with a bound on
// line length. Bytes are read straight into its buffer (prepare/commit); a line
// over the limit is reported once and the rest of it is dropped as it arrives,
// so the buffer never holds more than the limit plus one read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace kreek::net {

class LineFramer {
 public:
  explicit LineFramer(int64_t max_line_bytes);

  // Space for up to `n` more bytes; then commit() how many arrived. Moves the
  // buffer, so views returned earlier become invalid.
  char* prepare(size_t n);
  void commit(size_t n);

  enum class Kind { kNone, kLine, kOversize };
  struct Event {
    Kind kind = Kind::kNone;
    std::string_view line;   // kLine: without '\n' and a '\r' before it
    int64_t bytes_seen = 0;  // kOversize: bytes of the line seen when the limit was crossed
  };
  // The next line or oversize notice from the committed bytes; kNone when more
  // bytes are needed. A line view stays valid until the next prepare().
  Event next();
  // At end of stream: the unterminated last line, if any (not one being skipped).
  std::optional<std::string_view> take_tail();
  // Up to `max` committed bytes not yet handed out, taken as they are rather
  // than as lines (a payload of known length after a header line). Empty when
  // nothing is buffered. Valid until the next prepare(). Not while skipping an
  // oversize line: those bytes are already gone.
  std::string_view take_raw(size_t max);

  size_t buffered() const { return end_ - start_; }
  size_t capacity() const { return cap_; }
  bool skipping() const { return discarding_; }  // inside an oversize line

 private:
  int64_t max_;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  size_t start_ = 0;   // first byte not yet handed out
  size_t scan_ = 0;    // no '\n' in [start_, scan_)
  size_t end_ = 0;     // end of committed bytes
  bool discarding_ = false;  // inside an oversize line: drop through the next '\n'
};

}  // namespace kreek::net
