// The HTTP/1.1 request grammar over the line server; see http_endpoint.h.
// The framer hands out lines without their CRLF (a bare LF is accepted, as
// RFC 9112 section 2.2 allows a recipient to), so each line here is the
// request line, one header field, or the empty line that ends the head.
#include "net/http_endpoint.h"

#include <unordered_map>

#include "base/clock.h"

namespace kreek::net {

namespace {

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

// RFC 9110 5.6.2: token characters.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

// A field value: visible ASCII, obs-text, space and tab; no other control bytes.
bool is_field_value(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

bool equals_ci(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

HttpResponse error(int status, std::string why) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(why) + "\n"};
}

}  // namespace

std::string http_response_text(const HttpResponse& r, bool head_only) {
  std::string out;
  out.reserve(160 + (head_only ? 0 : r.body.size()));
  out += "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(reason(r.status)) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  if (r.status == 405) out += "Allow: GET, HEAD\r\n";
  out += "Cache-Control: no-store\r\n";
  out += "Connection: close\r\n\r\n";
  if (!head_only) out += r.body;
  return out;
}

struct HttpEndpoint::Core {
  enum class Phase { kRequestLine, kHeaders, kDone };
  struct Request {
    Phase phase = Phase::kRequestLine;
    int64_t start_ms = 0;
    int lines = 0;
    std::string method, path, version;
    int hosts = 0;
  };

  HttpOptions options;
  HttpHandler handler;
  std::unordered_map<uint64_t, Request> requests;  // by connection id

  void answer(Connection& c, Request& r, ResponseSlot& slot, const HttpResponse& resp) {
    slot.complete(http_response_text(resp, r.method == "HEAD"));
    r.phase = Phase::kDone;
    c.close();  // after the answer: one request per connection
  }

  void on_line(Connection& c, std::string_view line, ResponseSlot slot) {
    Request& r = requests[c.id()];
    int64_t now = clock::monotonic_ms();
    if (r.lines == 0) r.start_ms = now;
    if (r.phase == Phase::kDone) return slot.complete_empty();  // pipelined: never read
    if (++r.lines > options.max_header_lines + 1)
      return answer(c, r, slot, error(431, "more than " + std::to_string(options.max_header_lines) + " header lines"));
    if (now - r.start_ms > options.timeout_ms) return answer(c, r, slot, error(408, "request took too long"));

    if (r.phase == Phase::kRequestLine) {
      // RFC 9112 2.2: an empty line before the request line is ignored.
      if (line.empty()) return slot.complete_empty();
      size_t sp1 = line.find(' ');
      size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
      if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return answer(c, r, slot, error(400, "malformed request line"));
      std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                       version = line.substr(sp2 + 1);
      if (!is_token(method)) return answer(c, r, slot, error(400, "malformed method"));
      r.method = std::string(method);
      if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        bool http = version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[6] == '.';
        return answer(c, r, slot, http ? error(505, "only HTTP/1.0 and HTTP/1.1") : error(400, "malformed version"));
      }
      if (target.empty() || target[0] != '/') return answer(c, r, slot, error(400, "the target must be a path"));
      for (char ch : target) {
        auto u = static_cast<unsigned char>(ch);
        if (u <= 0x20 || u >= 0x7f) return answer(c, r, slot, error(400, "malformed target"));
      }
      r.path = std::string(target.substr(0, target.find('?')));
      r.version = std::string(version);
      r.phase = Phase::kHeaders;
      return slot.complete_empty();
    }

    if (!line.empty()) {
      if (line[0] == ' ' || line[0] == '\t') return answer(c, r, slot, error(400, "folded header lines are obsolete"));
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) return answer(c, r, slot, error(400, "header line without a colon"));
      std::string_view name = line.substr(0, colon), value = trim_ows(line.substr(colon + 1));
      // No space before the colon (RFC 9112 5.1: a request smuggling vector).
      if (!is_token(name)) return answer(c, r, slot, error(400, "malformed header name"));
      if (!is_field_value(value)) return answer(c, r, slot, error(400, "control character in a header value"));
      if (equals_ci(name, "host")) ++r.hosts;
      // No body is read, so none may be sent: its bytes would be taken for
      // the next request's.
      if (equals_ci(name, "transfer-encoding") || (equals_ci(name, "content-length") && value != "0"))
        return answer(c, r, slot, error(400, "request bodies are not accepted"));
      return slot.complete_empty();
    }

    // The empty line: the head is complete.
    if (r.hosts > 1 || (r.version == "HTTP/1.1" && r.hosts == 0))
      return answer(c, r, slot, error(400, "an HTTP/1.1 request needs exactly one Host header"));
    if (r.method != "GET" && r.method != "HEAD") return answer(c, r, slot, error(405, "only GET and HEAD"));
    answer(c, r, slot, handler(r.path));
  }
};

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::listen(EventLoop& loop, const std::string& host_port,
                                                           const HttpOptions& options, HttpHandler handler) {
  auto core = std::make_shared<Core>();
  core->options = options;
  core->handler = std::move(handler);
  ServerOptions so;
  so.max_line_bytes = options.max_line_bytes;
  so.max_pending_output = 64 << 20;
  so.max_connections = options.max_connections;
  so.idle_timeout_ms = options.timeout_ms;
  so.line_timeout_ms = options.timeout_ms;
  so.tls = options.tls;
  if (so.tls) so.plaintext_reply = http_response_text(error(400, "this endpoint requires https"));
  ConnectionHandler h;
  h.on_line = [core](Connection& c, std::string_view line, ResponseSlot slot) {
    core->on_line(c, line, std::move(slot));
  };
  h.on_oversize = [core](Connection& c, int64_t, ResponseSlot slot) {
    Core::Request& r = core->requests[c.id()];
    if (r.phase == Core::Phase::kDone) return slot.complete_empty();
    bool first = r.phase == Core::Phase::kRequestLine;
    core->answer(c, r, slot, error(first ? 414 : 431, first ? "request line too long" : "header line too long"));
  };
  h.on_refused = [](Connection&, ResponseSlot slot) {
    slot.complete(http_response_text(error(503, "too many connections")));
  };
  h.on_close = [core](Connection& c) { core->requests.erase(c.id()); };
  auto server = loop.listen(host_port, so, std::move(h));
  if (!server.is_ok()) return server.status();
  std::unique_ptr<HttpEndpoint> e(new HttpEndpoint());
  e->core_ = std::move(core);
  e->server_ = std::move(*server);
  return e;
}

HttpEndpoint::~HttpEndpoint() = default;

std::string HttpEndpoint::address() const { return server_->address(); }

void HttpEndpoint::stop() {
  server_->stop_accepting();
  server_->close_all();
}

}  // namespace kreek::net
