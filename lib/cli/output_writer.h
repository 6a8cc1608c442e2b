// OutputWriter: a large buffer in front of stdout. Callers append into
// buffer() and call maybe_flush(); a reader that went away (EPIPE, as in
// `kconsume | head`) is noted, not reported: the tool then ends quietly with 0.
#pragma once

#include <string>

#include "base/status.h"

namespace kreek::cli {

class OutputWriter {
 public:
  static constexpr size_t kBufferBytes = 256 << 10;

  explicit OutputWriter(int fd) : fd_(fd) { buf_.reserve(kBufferBytes + (64 << 10)); }

  std::string& buffer() { return buf_; }
  // Flushes once the buffer holds kBufferBytes.
  Status maybe_flush() { return buf_.size() >= kBufferBytes ? flush() : Status::ok(); }
  // Writes everything buffered. After EPIPE the buffer is dropped and
  // broken_pipe() is true; the Status is OK then (nothing left to report).
  Status flush();
  bool broken_pipe() const { return broken_pipe_; }
  // True (and broken_pipe() from then on) if stdout is a pipe whose reader
  // has gone, even though nothing was written yet: lets `kconsume -f | head -n 1`
  // end during a quiet spell, as GNU tail -f does.
  bool reader_gone();

 private:
  int fd_;
  std::string buf_;
  bool broken_pipe_ = false;
};

}  // namespace kreek::cli
