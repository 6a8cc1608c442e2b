// OutputSink: kconsume's RecordSink. Formats each record into the output
// buffer, flushing when it is full; stops at a -c count, a write error or a
// reader that went away. Positions advance as records enter the buffer, so
// whoever commits or checkpoints them flushes first.
#pragma once

#include <cstdint>
#include <optional>

#include "base/status.h"
#include "cli/output_format.h"
#include "cli/output_writer.h"
#include "client/consumer.h"

namespace kreek::cli {

class OutputSink : public client::RecordSink {
 public:
  OutputSink(const RecordFormatter& fmt, OutputWriter& out, std::optional<int64_t> limit)
      : fmt_(fmt), out_(out), limit_(limit) {}

  bool on_record(const client::ConsumedRecord& r) override {
    fmt_.append(out_.buffer(), r);
    ++written_;
    Status s = out_.maybe_flush();
    if (!s.is_ok()) {
      error_ = s;
      return false;
    }
    if (out_.broken_pipe()) return false;
    if (limit_ && written_ >= *limit_) return false;
    return true;
  }
  const Status& error() const { return error_; }
  int64_t written() const { return written_; }

 private:
  const RecordFormatter& fmt_;
  OutputWriter& out_;
  std::optional<int64_t> limit_;
  int64_t written_ = 0;
  Status error_;
};

}  // namespace kreek::cli
