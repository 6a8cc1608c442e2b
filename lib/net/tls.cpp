// TlsContext and TlsSession over OpenSSL. Errors are turned into one line each
// (OpenSSL's reason string, or the certificate check that failed) right where
// they happen, so callers log or print them as they are.
#include "net/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

namespace kreek::net {
namespace {

SSL_CTX* ctx_of(const TlsContext& c) { return static_cast<SSL_CTX*>(c.native()); }

// The most recent OpenSSL error as one line, or `fallback` when none is queued.
std::string openssl_reason(const char* fallback) {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return fallback;
  const char* r = ERR_reason_error_string(e);
  if (r != nullptr) return r;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// A file the context reads must exist and be readable; OpenSSL's own message
// for a missing file ("system lib") says less than strerror does.
Status check_readable(const char* what, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) {
    int e = errno;
    return Status(e == ENOENT ? Code::kNotFound : Code::kInvalidRequest,
                  std::string("open ") + what + " " + path + ": " + std::strerror(e));
  }
  std::fclose(f);
  return Status::ok();
}

SSL_CTX* new_ctx(const SSL_METHOD* method) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (ctx == nullptr) return nullptr;
  // TLS 1.0 and 1.1 are deprecated (RFC 8996); nothing kreek talks to needs them.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // A peer that closes without close_notify ends the stream like a FIN does on
  // a plain socket: every kreek message is a whole line, so a cut one is visible.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Partial writes and a moving buffer let the output queue hand over what it
  // has and advance by what was taken, as with send(2); released buffers keep
  // idle connections small.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

}  // namespace

TlsContext::~TlsContext() { SSL_CTX_free(static_cast<SSL_CTX*>(ctx_)); }

Result<std::shared_ptr<const TlsContext>> TlsContext::for_server(const std::string& cert_file,
                                                                const std::string& key_file) {
  KREEK_RETURN_IF_ERROR(check_readable("tls certificate file", cert_file));
  KREEK_RETURN_IF_ERROR(check_readable("tls key file", key_file));
  struct stat st;
  if (::stat(key_file.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return invalid_request("tls key file " + key_file + ": readable or writable by group or others (mode " +
                           mode + "); chmod 600 it");
  }
  SSL_CTX* ctx = new_ctx(TLS_server_method());
  if (ctx == nullptr) return Status(Code::kInternal, "tls context: " + openssl_reason("out of memory"));
  std::shared_ptr<const TlsContext> out(new TlsContext(ctx, true));
  // kreek's clients never resume sessions: tickets would be wasted bytes and
  // work on every handshake.
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1)
    return invalid_request("tls certificate file " + cert_file + ": " + openssl_reason("no certificate"));
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    return invalid_request("tls key file " + key_file + ": " + openssl_reason("no private key"));
  if (SSL_CTX_check_private_key(ctx) != 1)
    return invalid_request("tls key file " + key_file + ": " +
                           openssl_reason("does not match the certificate") + " (certificate " +
                           cert_file + ")");
  return out;
}

Result<std::shared_ptr<const TlsContext>> TlsContext::for_client(const std::string& ca_file) {
  KREEK_RETURN_IF_ERROR(check_readable("tls ca file", ca_file));
  SSL_CTX* ctx = new_ctx(TLS_client_method());
  if (ctx == nullptr) return Status(Code::kInternal, "tls context: " + openssl_reason("out of memory"));
  std::shared_ptr<const TlsContext> out(new TlsContext(ctx, false));
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1)
    return invalid_request("tls ca file " + ca_file + ": " + openssl_reason("no certificate"));
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return out;
}

std::unique_ptr<TlsSession> TlsSession::accept(const TlsContext& ctx, int fd) {
  SSL* ssl = SSL_new(ctx_of(ctx));
  if (ssl == nullptr) return nullptr;
  SSL_set_fd(ssl, fd);
  SSL_set_accept_state(ssl);
  return std::unique_ptr<TlsSession>(new TlsSession(ssl));
}

std::unique_ptr<TlsSession> TlsSession::connect(const TlsContext& ctx, int fd, const std::string& host) {
  SSL* ssl = SSL_new(ctx_of(ctx));
  if (ssl == nullptr) return nullptr;
  std::unique_ptr<TlsSession> s(new TlsSession(ssl));
  SSL_set_fd(ssl, fd);
  SSL_set_connect_state(ssl);
  // An IP literal must be in the certificate's IP SANs; a name in its DNS
  // SANs, and goes out as SNI. Either mismatch fails the handshake.
  in6_addr probe;
  bool is_ip = inet_pton(AF_INET, host.c_str(), &probe) == 1 || inet_pton(AF_INET6, host.c_str(), &probe) == 1;
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  } else {
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(ssl, host.c_str());
    SSL_set_tlsext_host_name(ssl, host.c_str());
  }
  return s;
}

TlsSession::~TlsSession() { SSL_free(static_cast<SSL*>(ssl_)); }

ssize_t TlsSession::fail(int rc) {
  SSL* ssl = static_cast<SSL*>(ssl_);
  int saved = errno;
  int err = SSL_get_error(ssl, rc);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      want_ = Want::kRead;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      want_ = Want::kWrite;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      want_ = Want::kNothing;
      return 0;
    case SSL_ERROR_SYSCALL:
      want_ = Want::kNothing;
      if (ERR_peek_error() == 0 && saved != 0) {
        error_ = std::strerror(saved);
        errno = saved;
        return -1;
      }
      if (ERR_peek_error() == 0 && SSL_is_init_finished(ssl)) return 0;  // EOF after the handshake
      error_ = openssl_reason("connection closed during the tls handshake");
      errno = EPROTO;
      return -1;
    default:
      break;
  }
  want_ = Want::kNothing;
  long verify = SSL_get_verify_result(ssl);
  if (!SSL_is_server(ssl) && verify != X509_V_OK) {
    verify_failed_ = true;
    ERR_clear_error();
    error_ = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
  } else {
    error_ = openssl_reason("tls error");
  }
  errno = EPROTO;
  return -1;
}

ssize_t TlsSession::read(char* buf, size_t n) {
  SSL* ssl = static_cast<SSL*>(ssl_);
  size_t got = 0;
  // One SSL_read yields at most one record (16 KiB); keep going so that a
  // short count means what it means for read(2): nothing more is waiting.
  while (got < n) {
    ERR_clear_error();
    errno = 0;
    int ask = n - got > INT_MAX ? INT_MAX : static_cast<int>(n - got);
    int rc = SSL_read(ssl, buf + got, ask);
    if (rc > 0) {
      got += static_cast<size_t>(rc);
      continue;
    }
    if (got > 0) {
      // Hand over what arrived; whatever stopped us recurs on the next call.
      want_ = SSL_get_error(ssl, rc) == SSL_ERROR_WANT_WRITE ? Want::kWrite : Want::kRead;
      ERR_clear_error();
      return static_cast<ssize_t>(got);
    }
    return fail(rc);
  }
  want_ = Want::kNothing;
  return static_cast<ssize_t>(got);
}

ssize_t TlsSession::write(const char* buf, size_t n) {
  SSL* ssl = static_cast<SSL*>(ssl_);
  size_t put = 0;
  while (put < n) {
    ERR_clear_error();
    errno = 0;
    int ask = n - put > INT_MAX ? INT_MAX : static_cast<int>(n - put);
    int rc = SSL_write(ssl, buf + put, ask);
    if (rc > 0) {
      put += static_cast<size_t>(rc);
      continue;
    }
    // With partial writes on, what OpenSSL holds back after EAGAIN is the
    // start of buf + put, which is exactly what the caller offers next time.
    if (put > 0) {
      want_ = SSL_get_error(ssl, rc) == SSL_ERROR_WANT_READ ? Want::kRead : Want::kWrite;
      ERR_clear_error();
      return static_cast<ssize_t>(put);
    }
    ssize_t r = fail(rc);
    if (r == 0) {  // the peer's close_notify: writing on is an error, as EPIPE is for send(2)
      error_ = "connection closed by peer";
      errno = EPIPE;
      return -1;
    }
    return r;
  }
  want_ = Want::kNothing;
  return static_cast<ssize_t>(put);
}

int TlsSession::handshake() {
  SSL* ssl = static_cast<SSL*>(ssl_);
  ERR_clear_error();
  errno = 0;
  int rc = SSL_do_handshake(ssl);
  if (rc == 1) {
    want_ = Want::kNothing;
    return 1;
  }
  ssize_t r = fail(rc);
  if (r < 0 && errno == EAGAIN) return 0;
  if (r == 0) error_ = "connection closed during the tls handshake";
  return -1;
}

bool TlsSession::handshake_done() const { return SSL_is_init_finished(static_cast<SSL*>(ssl_)) == 1; }

void TlsSession::shutdown() {
  SSL* ssl = static_cast<SSL*>(ssl_);
  if (SSL_is_init_finished(ssl) == 1) SSL_shutdown(ssl);
  ERR_clear_error();
}

bool TlsSession::has_pending() const { return SSL_pending(static_cast<SSL*>(ssl_)) > 0; }

}  // namespace kreek::net
