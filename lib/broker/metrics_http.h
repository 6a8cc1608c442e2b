// The broker's HTTP endpoint (--metrics-listen): GET /metrics answers the
// Prometheus text of metrics_export.h, GET /health 200 once the broker is
// registered and serving, 503 before that and once shutdown began (a load
// balancer or systemd watchdog then stops sending it work).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "net/http_endpoint.h"

namespace kreek::broker {

struct BrokerContext;

// `ctx` and `shutting_down` must outlive the endpoint.
Result<std::unique_ptr<net::HttpEndpoint>> start_metrics_endpoint(BrokerContext& ctx, net::EventLoop& loop,
                                                                  const std::string& host_port,
                                                                  const bool& shutting_down);

}  // namespace kreek::broker
