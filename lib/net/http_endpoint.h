// HttpEndpoint: a minimal, strict HTTP/1.1 server for scrapes and health
// checks (GET and HEAD, no request bodies, one request per connection:
// every answer carries Connection: close). It runs on the event loop's TCP
// server, whose line framing already bounds each line and times out slow
// peers; this adds the request grammar (RFC 9112), a cap on header lines and
// on the whole request's time, and the status line. Anything it does not
// understand gets a 4xx and the connection closes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/net.h"

namespace kreek::net {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct HttpOptions {
  int64_t max_line_bytes = 8192;   // request line or one header line
  int max_header_lines = 100;
  int64_t timeout_ms = 10'000;     // the whole request, first byte to blank line
  size_t max_connections = 64;     // more are answered 503 and closed
  // Set: HTTPS (net/tls.h); a plain-text request gets a 400 saying so.
  std::shared_ptr<const TlsContext> tls;
};

// Called for a well-formed GET or HEAD; `path` is the target without its
// query string. HEAD gets the same headers and no body.
using HttpHandler = std::function<HttpResponse(std::string_view path)>;

class HttpEndpoint {
 public:
  // Listens on "HOST:PORT" (port 0 picks one); errors as EventLoop::listen.
  static Result<std::unique_ptr<HttpEndpoint>> listen(EventLoop& loop, const std::string& host_port,
                                                      const HttpOptions& options, HttpHandler handler);
  ~HttpEndpoint();

  std::string address() const;  // the bound address, real port
  void stop();                   // stops accepting; open connections finish

  struct Core;

 private:
  HttpEndpoint() = default;
  std::shared_ptr<Core> core_;
  std::unique_ptr<Server> server_;
};

// "HTTP/1.1 200 OK\r\n...": the whole response, with Content-Length and
// Connection: close (`head_only`: without the body, for HEAD).
std::string http_response_text(const HttpResponse& r, bool head_only = false);

}  // namespace kreek::net
