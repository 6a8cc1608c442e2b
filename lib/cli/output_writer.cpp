// OutputWriter::flush: write(2) until done; EPIPE means the reader left.
#include "cli/output_writer.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace kreek::cli {

Status OutputWriter::flush() {
  size_t done = 0;
  while (done < buf_.size() && !broken_pipe_) {
    ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EPIPE) {
      broken_pipe_ = true;
      break;
    }
    buf_.clear();
    return errno_status("write", "stdout", errno);
  }
  buf_.clear();
  return Status::ok();
}

bool OutputWriter::reader_gone() {
  if (broken_pipe_) return true;
  // A pipe's write end polls POLLERR once every reader has closed it.
  pollfd p{fd_, 0, 0};
  if (::poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0) {
    broken_pipe_ = true;
    buf_.clear();
  }
  return broken_pipe_;
}

}  // namespace kreek::cli
