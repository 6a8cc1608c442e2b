// OutputQueue: the responses a connection has yet to send, in order. Runs of
// buffers go out in one sendmsg (writev); file ranges go out with sendfile(2),
// falling back to pread + send where the file cannot be sendfile'd. Under TLS
// everything is encrypted on its way out, so file ranges take the pread path.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "net/net.h"

namespace kreek::net {

class TlsSession;

class OutputQueue {
 public:
  void push(Response r);
  bool empty() const { return q_.empty(); }
  int64_t bytes() const { return bytes_; }  // unsent bytes, buffers and file ranges
  int64_t buffer_bytes() const { return buffer_bytes_; }  // the part held in memory
  void clear();

  enum class Flush { kDone, kBlocked, kError };
  // Writes to nonblocking socket `fd` (through `tls` when not null) until the
  // queue empties or the socket is full. On kError `error` says what failed
  // and the queue is left as it was. Under TLS kBlocked may mean the session
  // waits for input (tls->want()).
  Flush flush(int fd, std::string& error, TlsSession* tls = nullptr);

 private:
  struct Piece {
    std::string data;  // a buffer, when !is_file
    size_t off = 0;
    FileRange range;   // when is_file: pos/len advance as bytes go out
    bool is_file = false;
    bool no_sendfile = false;  // sendfile refused this fd: use pread + send
  };
  Flush flush_buffers(int fd, std::string& error);
  Flush flush_file(int fd, Piece& p, std::string& error);
  Flush flush_tls_buffers(TlsSession& tls, std::string& error);
  Flush flush_tls_file(TlsSession& tls, Piece& p, std::string& error);
  // Advances the buffers at the head of the queue past `n` sent bytes.
  void consume_buffers(size_t n);

  std::string stage_;  // TLS: buffers copied together so small responses share a record

  std::deque<Piece> q_;
  int64_t bytes_ = 0;
  int64_t buffer_bytes_ = 0;
};

}  // namespace kreek::net
