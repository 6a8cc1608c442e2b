// OutputQueue: coalesced buffer writes and zero-copy file ranges on a
// nonblocking socket. MSG_NOSIGNAL where the call allows it; sendfile has no
// such flag, which is why EventLoop::create() ignores SIGPIPE.
#include "net/output_queue.h"

#include <limits.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/tls.h"

namespace kreek::net {
namespace {
constexpr int kMaxIov = IOV_MAX < 1024 ? IOV_MAX : 1024;
// sendfile moves at most ~2 GiB per call; ask for 1 GiB and loop.
constexpr int64_t kMaxSendfile = int64_t{1} << 30;
constexpr size_t kCopyChunk = 64 << 10;
// A TLS record holds at most 16 KiB; staging that much lets many small
// responses share one record (and one send) without copying big ones twice.
constexpr size_t kTlsStage = 16 << 10;

bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }
}  // namespace

void OutputQueue::push(Response r) {
  if (!r.head.empty()) {
    bytes_ += static_cast<int64_t>(r.head.size());
    buffer_bytes_ += static_cast<int64_t>(r.head.size());
    Piece p;
    p.data = std::move(r.head);
    q_.push_back(std::move(p));
  }
  for (auto& range : r.ranges) {
    if (range.len <= 0) continue;
    bytes_ += range.len;
    Piece p;
    p.is_file = true;
    p.range = std::move(range);
    q_.push_back(std::move(p));
  }
}

void OutputQueue::clear() {
  q_.clear();
  bytes_ = 0;
  buffer_bytes_ = 0;
}

OutputQueue::Flush OutputQueue::flush(int fd, std::string& error, TlsSession* tls) {
  while (!q_.empty()) {
    Flush f;
    if (tls != nullptr)
      f = q_.front().is_file ? flush_tls_file(*tls, q_.front(), error) : flush_tls_buffers(*tls, error);
    else
      f = q_.front().is_file ? flush_file(fd, q_.front(), error) : flush_buffers(fd, error);
    if (f != Flush::kDone) return f;
  }
  return Flush::kDone;
}

void OutputQueue::consume_buffers(size_t left) {
  bytes_ -= static_cast<int64_t>(left);
  buffer_bytes_ -= static_cast<int64_t>(left);
  while (left > 0) {
    Piece& p = q_.front();
    size_t rest = p.data.size() - p.off;
    if (left < rest) {
      p.off += left;
      break;
    }
    left -= rest;
    q_.pop_front();
  }
}

// The buffers at the head go out through the session: a big one straight from
// its string, a run of small ones copied into one staging buffer first. A retry
// after EAGAIN stages the same head bytes again, as SSL_write requires.
OutputQueue::Flush OutputQueue::flush_tls_buffers(TlsSession& tls, std::string& error) {
  const Piece& head = q_.front();
  const char* data = head.data.data() + head.off;
  size_t len = head.data.size() - head.off;
  if (len < kTlsStage) {
    stage_.clear();
    for (auto it = q_.begin(); it != q_.end() && !it->is_file && stage_.size() < kTlsStage; ++it)
      stage_.append(it->data, it->off, std::min(it->data.size() - it->off, kTlsStage - stage_.size()));
    data = stage_.data();
    len = stage_.size();
  }
  ssize_t w = tls.write(data, len);
  if (w < 0) {
    if (would_block(errno)) return Flush::kBlocked;
    error = "tls send: " + tls.error();
    return Flush::kError;
  }
  consume_buffers(static_cast<size_t>(w));
  return static_cast<size_t>(w) < len ? Flush::kBlocked : Flush::kDone;
}

// File ranges cannot be sendfile'd into TLS: pread a chunk, encrypt, send.
// Only what the session took advances the range; the rest is read again.
OutputQueue::Flush OutputQueue::flush_tls_file(TlsSession& tls, Piece& p, std::string& error) {
  FileRange& r = p.range;
  static thread_local char buf[kCopyChunk];
  while (r.len > 0) {
    ssize_t got;
    do {
      got = pread(r.fd, buf, static_cast<size_t>(std::min<int64_t>(r.len, kCopyChunk)), r.pos);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
      error = std::string("read response file: ") + std::strerror(errno);
      return Flush::kError;
    }
    if (got == 0) {
      error = "read response file: file ended " + std::to_string(r.len) + " bytes before its range";
      return Flush::kError;
    }
    ssize_t w = tls.write(buf, static_cast<size_t>(got));
    if (w < 0) {
      if (would_block(errno)) return Flush::kBlocked;
      error = "tls send: " + tls.error();
      return Flush::kError;
    }
    r.pos += w;
    r.len -= w;
    bytes_ -= w;
    if (w < got) return Flush::kBlocked;
  }
  q_.pop_front();
  return Flush::kDone;
}

// Sends the run of buffers at the head of the queue in one call.
OutputQueue::Flush OutputQueue::flush_buffers(int fd, std::string& error) {
  iovec iov[kMaxIov];
  int n = 0;
  size_t total = 0;
  for (auto it = q_.begin(); it != q_.end() && !it->is_file && n < kMaxIov; ++it, ++n) {
    iov[n].iov_base = it->data.data() + it->off;
    iov[n].iov_len = it->data.size() - it->off;
    total += iov[n].iov_len;
  }
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = static_cast<size_t>(n);
  ssize_t w;
  do {
    w = sendmsg(fd, &msg, MSG_NOSIGNAL);
  } while (w < 0 && errno == EINTR);
  if (w < 0) {
    if (would_block(errno)) return Flush::kBlocked;
    error = std::string("send: ") + std::strerror(errno);
    return Flush::kError;
  }
  consume_buffers(static_cast<size_t>(w));
  // A short write means the socket buffer is full: wait for writability.
  return static_cast<size_t>(w) < total ? Flush::kBlocked : Flush::kDone;
}

OutputQueue::Flush OutputQueue::flush_file(int fd, Piece& p, std::string& error) {
  FileRange& r = p.range;
  while (r.len > 0) {
    int64_t want = std::min(r.len, kMaxSendfile);
    ssize_t w;
    if (!p.no_sendfile) {
      off_t off = static_cast<off_t>(r.pos);
      w = sendfile(fd, r.fd, &off, static_cast<size_t>(want));
      if (w < 0 && (errno == EINVAL || errno == ENOSYS)) {
        p.no_sendfile = true;  // e.g. a file system without splice support
        continue;
      }
    } else {
      // Fallback: copy through a buffer. Only what the socket took advances
      // the range; the rest is read again next time.
      static thread_local char buf[kCopyChunk];
      ssize_t got;
      do {
        got = pread(r.fd, buf, static_cast<size_t>(std::min<int64_t>(want, kCopyChunk)), r.pos);
      } while (got < 0 && errno == EINTR);
      if (got < 0) {
        error = std::string("read response file: ") + std::strerror(errno);
        return Flush::kError;
      }
      if (got == 0) {
        w = 0;
      } else {
        w = send(fd, buf, static_cast<size_t>(got), MSG_NOSIGNAL);
      }
    }
    if (w < 0) {
      if (errno == EINTR) continue;
      if (would_block(errno)) return Flush::kBlocked;
      error = std::string(p.no_sendfile ? "send: " : "sendfile: ") + std::strerror(errno);
      return Flush::kError;
    }
    if (w == 0) {
      // The file ended before the range did (truncated under us). The peer was
      // promised `len` bytes, so the stream can no longer be framed.
      error = "sendfile: file ended " + std::to_string(r.len) + " bytes before its range";
      return Flush::kError;
    }
    r.pos += w;
    r.len -= w;
    bytes_ -= w;
  }
  q_.pop_front();
  return Flush::kDone;
}

}  // namespace kreek::net
