// Shared-secret authentication (--auth-token-file on kbroker and kzk-lite and
// every client): the token file, the hello that carries the token, and the
// gate a server runs each connection's lines through until that connection has
// sent a hello with the right token. kreek-protocol(7) AUTHENTICATION and
// kbroker(1) SECURITY say what this does and does not promise.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"
#include "proto/json_scan.h"

namespace kreek::proto {

// Names the token file when no --auth-token-file is given (never the secret itself).
inline constexpr const char* kAuthTokenFileEnv = "KREEK_AUTH_TOKEN_FILE";
inline constexpr size_t kMaxAuthTokenBytes = 1024;

// Reads the token: the file's contents without trailing whitespace. Refused
// (kInvalidRequest, naming the file): not a regular file, readable or writable
// by group or others (the secret would not be one; `chmod 600 FILE`), empty,
// longer than kMaxAuthTokenBytes, or holding bytes outside printable ASCII.
// kNotFound / kIoError when it cannot be read.
Result<std::string> load_auth_token(const std::string& path);

// `path` if not empty, else the file $KREEK_AUTH_TOKEN_FILE names, else no
// token (""). Tools call this once at start.
Result<std::string> load_auth_token_from(const std::string& path);

// Equal in time that depends only on `expected`'s length, not on where the
// first difference is (a timing side channel would leak the token byte by byte).
bool token_equals(std::string_view expected, std::string_view given);

// The body of the hello that opens an authenticated connection, without an
// id: `{"op":"hello","token":"..."}`.
std::string auth_hello_request(std::string_view token);

// True for 127.0.0.0/8, ::1 and "localhost" ("127.0.0.1:9092"): servers warn
// when they listen anywhere else without a token.
bool is_loopback_address(std::string_view host_port);

// The server's side. One gate per listener; loop thread only.
class AuthGate {
 public:
  AuthGate() = default;  // no token: every line passes
  // `read_only_token`, if not empty, admits a connection that may only read
  // (kbroker --read-only-token-file); it must differ from `token`.
  explicit AuthGate(std::string token, std::string read_only_token = "")
      : token_(std::move(token)), read_only_token_(std::move(read_only_token)) {}

  bool enabled() const { return !token_.empty(); }
  // Whether connection `conn` may have `line` served. A connection passes once
  // its first line is a hello with the right token (that hello is then served
  // as usual). Otherwise returns false and sets `refusal` to the one error
  // line (UNAUTHORIZED, echoing the request's id when it has one) to send
  // before closing the connection, and `why` to a log message without secrets.
  bool admit(uint64_t conn, std::string_view line, std::string& refusal, std::string& why);
  // For a line over the size limit on a connection that has not authenticated.
  bool is_admitted(uint64_t conn) const { return !enabled() || admitted_.count(conn) != 0; }
  // Admitted with the read-only token: the server refuses its writes.
  bool is_read_only(uint64_t conn) const {
    auto it = admitted_.find(conn);
    return it != admitted_.end() && it->second == Access::kReadOnly;
  }
  std::string refusal_line(std::string_view id_raw, std::string_view message) const;
  // The connection closed.
  void forget(uint64_t conn) { admitted_.erase(conn); }
  size_t admitted() const { return admitted_.size(); }

 private:
  enum class Access { kFull, kReadOnly };
  std::string token_;
  std::string read_only_token_;
  std::unordered_map<uint64_t, Access> admitted_;
  JsonScan scan_;
};

}  // namespace kreek::proto
