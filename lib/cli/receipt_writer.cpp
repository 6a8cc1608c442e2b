// ReceiptWriter: formats receipts into one buffer and writes it after each
// round of acks, so a receipt costs no syscall of its own.
#include "cli/receipt_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "proto/json_scan.h"

namespace kreek::cli {

ReceiptWriter::~ReceiptWriter() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

Status ReceiptWriter::open(const std::string& path, std::string topic) {
  topic_ = std::move(topic);
  path_ = path;
  if (path == "-") {
    fd_ = STDOUT_FILENO;
    return Status::ok();
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return errno_status("open", path, errno);
  owns_fd_ = true;
  return Status::ok();
}

void ReceiptWriter::add(const SettledRecord& r, const std::string& file, bool with_pos) {
  if (fd_ < 0 || broken_ || r.marker) return;
  buf_.append("{\"topic\":");
  proto::append_json_string(buf_, topic_);
  if (r.error == nullptr) {
    buf_.append(",\"partition\":");
    buf_.append(std::to_string(r.partition));
    buf_.append(",\"offset\":");
    buf_.append(r.offset >= 0 ? std::to_string(r.offset) : "null");
    buf_.append(",\"timestamp\":");
    buf_.append(r.timestamp >= 0 ? std::to_string(r.timestamp) : "null");
  }
  if (!file.empty()) {
    buf_.append(",\"file\":");
    proto::append_json_string(buf_, file);
  }
  buf_.append(",\"line\":");
  buf_.append(std::to_string(r.line));
  if (with_pos) {
    buf_.append(",\"pos\":");
    buf_.append(std::to_string(r.end_pos));
  }
  if (r.error != nullptr) {
    buf_.append(",\"error\":{\"code\":");
    proto::append_json_string(buf_, code_name(r.error->code()));
    buf_.append(",\"message\":");
    proto::append_json_string(buf_, r.error->message());
    buf_.push_back('}');
  }
  buf_.append("}\n");
}

Status ReceiptWriter::flush() {
  size_t done = 0;
  while (done < buf_.size() && !broken_) {
    ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE && fd_ == STDOUT_FILENO) {
        broken_ = true;  // `kproduce --receipts - | head`: the reader has seen enough
        break;
      }
      buf_.clear();
      return errno_status("write", path_ == "-" ? "receipts to stdout" : path_, errno);
    }
    done += static_cast<size_t>(n);
  }
  buf_.clear();
  return Status::ok();
}

}  // namespace kreek::cli
