// Internal to lib/net: socket addresses as kreek prints and parses them
// ("127.0.0.1:9092", "[::1]:9092"), and resolving a listen address.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "base/status.h"

namespace kreek::net {

// "ip:port", with brackets around an IPv6 address.
std::string format_address(const sockaddr* addr);

// Resolves a numeric or named host for bind(2). kUnavailable when it does not resolve.
Status resolve_address(const std::string& host, int port, sockaddr_storage& out, socklen_t& len);

}  // namespace kreek::net
