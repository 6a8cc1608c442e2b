// Routes of the metrics endpoint; see metrics_http.h.
#include "broker/metrics_http.h"

#include "broker/broker_context.h"
#include "broker/metrics_export.h"

namespace kreek::broker {

Result<std::unique_ptr<net::HttpEndpoint>> start_metrics_endpoint(BrokerContext& ctx, net::EventLoop& loop,
                                                                  const std::string& host_port,
                                                                  const bool& shutting_down) {
  BrokerContext* c = &ctx;
  const bool* stopping = &shutting_down;
  auto handler = [c, stopping](std::string_view path) -> net::HttpResponse {
    if (path == "/metrics") {
      return {200, "text/plain; version=0.0.4; charset=utf-8", to_prometheus(collect_metrics(*c))};
    }
    if (path == "/health") {
      if (*stopping) return {503, "text/plain; charset=utf-8", "shutting down\n"};
      if (!c->ready) return {503, "text/plain; charset=utf-8", "starting\n"};
      return {200, "text/plain; charset=utf-8", "ok\n"};
    }
    if (path == "/")
      return {200, "text/plain; charset=utf-8", "kreek broker: /metrics (Prometheus text), /health\n"};
    return {404, "text/plain; charset=utf-8", "not found: try /metrics or /health\n"};
  };
  net::HttpOptions options;
  options.tls = ctx.config.tls_server;  // HTTPS with the broker's own certificate under --tls-cert
  auto bound = net::HttpEndpoint::listen(loop, host_port, options, std::move(handler));
  if (!bound.is_ok()) return bound.status().with_context("metrics endpoint");
  return std::move(*bound);
}

}  // namespace kreek::broker
