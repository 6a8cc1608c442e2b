// kproduce --receipts FILE|-: one JSON line per input record once its fate is
// known, in input order, so a script can prove delivery:
//   {"topic":"t","partition":0,"offset":41,"timestamp":1700000000000,"line":7}
//   {"topic":"t","file":"app.log","line":8,"error":{"code":"MESSAGE_TOO_LARGE","message":"..."}}
// "file" names the input when it is a file (always with --follow, plus "pos",
// its byte offset after the line); "timestamp" is null when the broker's
// answer had none (a resent batch it already had).
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "cli/delivery_ledger.h"

namespace kreek::cli {

class ReceiptWriter {
 public:
  ~ReceiptWriter();
  // "-" is stdout. A file is created or truncated (O_APPEND is not wanted:
  // a receipts file describes one run).
  Status open(const std::string& path, std::string topic);
  // Appends one receipt; `file` is empty for stdin. `with_pos`: --follow.
  void add(const SettledRecord& r, const std::string& file, bool with_pos);
  // Writes what add() buffered; EPIPE on stdout ends receipts quietly.
  Status flush();
  bool is_open() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  bool owns_fd_ = false;
  std::string path_;
  std::string topic_;
  std::string buf_;
  bool broken_ = false;  // the reader went away (EPIPE)
};

}  // namespace kreek::cli
