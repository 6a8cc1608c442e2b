// TLS for kreek's sockets (OpenSSL): a context built from PEM files, and a
// session over one nonblocking socket whose read/write look like read(2) and
// write(2). TLS sits below the line protocol: the same JSON lines flow inside it.
// No OpenSSL type appears here, so only tls.cpp includes OpenSSL's headers.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "base/status.h"

namespace kreek::net {

// Names the CA file the tools trust when no --tls-ca is given.
inline constexpr const char* kTlsCaFileEnv = "KREEK_TLS_CA_FILE";

// Immutable once built; share it between every connection of a listener or
// every link of a process. TLS 1.2 is the oldest version either side speaks.
class TlsContext {
 public:
  // A listener's: the certificate chain and its private key (PEM). Errors
  // (kInvalidRequest, one line naming the file): unreadable or unparsable
  // files, a key that does not match the certificate, and a key file readable
  // or writable by group or others (refused like an auth token file).
  static Result<std::shared_ptr<const TlsContext>> for_server(const std::string& cert_file,
                                                             const std::string& key_file);
  // A connecting side's: trusts only the certificates in `ca_file` (PEM), and
  // each session checks that the peer's certificate names the address dialed.
  static Result<std::shared_ptr<const TlsContext>> for_client(const std::string& ca_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  bool is_server() const { return server_; }
  void* native() const { return ctx_; }  // the SSL_CTX, for tls.cpp

 private:
  TlsContext(void* ctx, bool server) : ctx_(ctx), server_(server) {}
  void* ctx_;
  bool server_;
};

// One TLS connection over a nonblocking socket it does not own. The
// handshake runs inside the first read()/write() (or handshake()), so a
// server never blocks on it. Loop thread (or the one thread of a tool) only.
class TlsSession {
 public:
  // A server's session on an accepted socket.
  static std::unique_ptr<TlsSession> accept(const TlsContext& ctx, int fd);
  // A client's session on a connected socket; `host` (an IP literal or a DNS
  // name, without the port) is what the peer's certificate must name.
  static std::unique_ptr<TlsSession> connect(const TlsContext& ctx, int fd, const std::string& host);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  enum class Want { kNothing, kRead, kWrite };
  // Like read(2): fills `buf` as far as decrypted bytes and the socket allow,
  // so a short count means the socket is drained. 0 at the end of the stream;
  // -1 with errno EAGAIN when it must wait (want() says for what), or with
  // errno EPROTO (or the socket's errno) and error() saying what failed.
  ssize_t read(char* buf, size_t n);
  // Like write(2): -1/EAGAIN when the socket is full or the handshake waits
  // for input (want()); a retry after EAGAIN must offer the same bytes first.
  ssize_t write(const char* buf, size_t n);
  // Drives the handshake alone: 1 done, 0 must wait (want()), -1 failed (error()).
  int handshake();
  bool handshake_done() const;
  // Sends close_notify if the socket takes it at once; never waits (a closing
  // server owes the peer no more than a plain FIN).
  void shutdown();
  // Decrypted bytes are buffered here: read them before waiting on the socket,
  // which will not say readable for bytes it no longer holds.
  bool has_pending() const;
  Want want() const { return want_; }
  // The last failure in one line: "certificate verify failed: certificate has
  // expired", "wrong version number", "Connection reset by peer".
  const std::string& error() const { return error_; }
  // Whether the failure was the peer's certificate not verifying.
  bool verify_failed() const { return verify_failed_; }

 private:
  TlsSession(void* ssl) : ssl_(ssl) {}
  // Maps an OpenSSL result `rc` <= 0 of the last call: -1 with errno set, or 0 at a clean close.
  ssize_t fail(int rc);
  void* ssl_;
  Want want_ = Want::kNothing;
  std::string error_;
  bool verify_failed_ = false;
};

// True when `first_byte` may open a TLS handshake (a handshake record, 0x16):
// a server tells a plain-text client apart by its first byte.
inline bool is_tls_handshake_byte(unsigned char first_byte) { return first_byte == 0x16; }

}  // namespace kreek::net
