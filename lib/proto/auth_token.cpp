// Token file, constant-time comparison and the per-connection gate; see auth_token.h.
#include "proto/auth_token.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "proto/message.h"

namespace kreek::proto {

Result<std::string> load_auth_token(const std::string& path) {
  // O_NONBLOCK: a FIFO named by mistake must not hang the start.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    int e = errno;
    Status s = errno_status("open auth token file", path, e);
    return e == ENOENT ? Status(Code::kNotFound, s.message()) : s;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return errno_status("stat auth token file", path, e);
  }
  auto refuse = [&](std::string why) {
    ::close(fd);
    return invalid_request("auth token file " + path + ": " + why);
  };
  if (!S_ISREG(st.st_mode)) return refuse("not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return refuse(std::string("readable or writable by group or others (mode ") + mode +
                  "); chmod 600 it");
  }
  if (st.st_size > static_cast<off_t>(kMaxAuthTokenBytes) + 64)
    return refuse("longer than " + std::to_string(kMaxAuthTokenBytes) + " bytes");
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t r = ::read(fd, text.data() + got, text.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      ::close(fd);
      return errno_status("read auth token file", path, e);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  text.resize(got);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' ||
                           text.back() == '\t'))
    text.pop_back();
  auto invalid = [&](std::string why) { return invalid_request("auth token file " + path + ": " + why); };
  if (text.empty()) return invalid("empty");
  if (text.size() > kMaxAuthTokenBytes)
    return invalid("longer than " + std::to_string(kMaxAuthTokenBytes) + " bytes");
  for (char c : text)
    if (c < 0x20 || c > 0x7e) return invalid("the token must be printable ASCII on one line");
  return text;
}

Result<std::string> load_auth_token_from(const std::string& path) {
  if (!path.empty()) return load_auth_token(path);
  const char* env = std::getenv(kAuthTokenFileEnv);
  if (env == nullptr || *env == '\0') return std::string();
  auto token = load_auth_token(env);
  if (!token.is_ok()) return token.status().with_context(std::string("$") + kAuthTokenFileEnv);
  return token;
}

bool token_equals(std::string_view expected, std::string_view given) {
  // Every byte of `expected` is visited whatever `given` holds; the length
  // difference is folded in rather than returned early.
  volatile unsigned char diff = expected.size() == given.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff = diff | (static_cast<unsigned char>(expected[i]) ^ g);
  }
  return diff == 0;
}

std::string auth_hello_request(std::string_view token) {
  std::string out = R"({"op":"hello","token":)";
  append_json_string(out, token);
  out += '}';
  return out;
}

bool is_loopback_address(std::string_view host_port) {
  std::string_view host = host_port;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') == std::string_view::npos ? host.size() : host.find(']') - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  return host == "localhost" || host == "::1" || host.substr(0, 4) == "127.";
}

std::string AuthGate::refusal_line(std::string_view id_raw, std::string_view message) const {
  return error_line(id_raw, Status(Code::kUnauthorized, std::string(message)));
}

bool AuthGate::admit(uint64_t conn, std::string_view line, std::string& refusal, std::string& why) {
  if (is_admitted(conn)) return true;
  std::string_view id_raw = "null";
  bool hello = false;
  std::string given;
  bool has_token = false;
  // Small limits: nothing is served before the hello, so nothing big is parsed either.
  ScanLimits limits;
  limits.max_depth = 4;
  limits.max_tokens = 64;
  if (scan_.scan(line, limits).is_ok() && scan_.at(0).type == TokType::kObject) {
    int64_t id = scan_.find(0, "id");
    if (id >= 0) {
      TokType t = scan_.at(static_cast<uint32_t>(id)).type;
      if (t != TokType::kObject && t != TokType::kArray) id_raw = scan_.raw(static_cast<uint32_t>(id));
    }
    int64_t op = scan_.find(0, "op");
    hello = op >= 0 && scan_.at(static_cast<uint32_t>(op)).type == TokType::kString &&
            scan_.raw(static_cast<uint32_t>(op)) == "\"hello\"";
    int64_t tok = scan_.find(0, "token");
    if (tok >= 0 && scan_.at(static_cast<uint32_t>(tok)).type == TokType::kString) {
      has_token = true;
      given = scan_.get_string(static_cast<uint32_t>(tok));
    }
  }
  if (hello && has_token) {
    // Both compared every time: which one matched takes no longer to tell.
    const bool full = token_equals(token_, given);
    const bool read_only = !read_only_token_.empty() && token_equals(read_only_token_, given);
    if (full || read_only) {
      admitted_[conn] = full ? Access::kFull : Access::kReadOnly;
      return true;
    }
  }
  std::string message;
  if (!hello) {
    message = "authentication required: the first request must be a hello with the auth token";
    why = "no hello with a token first";
  } else if (!has_token) {
    message = "authentication required: the hello carries no \"token\" (use --auth-token-file)";
    why = "hello without a token";
  } else {
    message = "wrong auth token";
    why = "wrong auth token";
  }
  refusal = refusal_line(id_raw, message);
  return false;
}

}  // namespace kreek::proto
