// Internal to lib/net: the state a Server shares with its connections, and
// open_server(), which binds the listening socket and watches it for accepts.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "net/net.h"
#include "net/uv_loop.h"

namespace kreek::net {

class ConnectionImpl;

// Shared by the Server object and every connection it accepted, so a
// connection that outlives its Server still has its options and loop.
struct ServerCore {
  UvEventLoop* loop = nullptr;
  ServerOptions options;
  ConnectionHandler handler;
  bool detached = false;  // the Server object is gone: handler callbacks stop
  std::string address;    // bound address, real port
  HandleBox* listener = nullptr;  // null once accepting stopped
  int reserve_fd = -1;    // spare fd given up to shed a connection at EMFILE
  // Connections not yet fully closed, by id. Raw pointers: each connection
  // removes itself when its handle has closed.
  std::unordered_map<uint64_t, ConnectionImpl*> connections;
  size_t served = 0;
  std::unique_ptr<Timer> sweep;  // checks idle and line timeouts; null when both are off  // connections not refused over max_connections, until their close
  ~ServerCore();
};

Result<std::unique_ptr<Server>> open_server(UvEventLoop& loop, const std::string& host_port,
                                            const ServerOptions& options, ConnectionHandler handler);

}  // namespace kreek::net
