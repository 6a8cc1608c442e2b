// Internal to lib/net: open_link(), the libuv side of EventLoop::connect().
// A link is a raw nonblocking socket watched by a uv_poll_t (as connections
// are, for the same writev control) plus a uv_timer_t for the connect timeout.
#pragma once

#include <memory>
#include <string>

#include "net/net.h"
#include "net/uv_loop.h"

namespace kreek::net {

std::unique_ptr<Link> open_link(UvEventLoop& loop, const std::string& host_port,
                                const LinkOptions& options, LinkHandler handler);

}  // namespace kreek::net
