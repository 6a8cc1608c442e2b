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
  size_t served = 0;  // connections not refused over max_connections, until their close
  std::unique_ptr<Timer> sweep;  // checks the timeouts; null when all are off
  // Response bytes all connections hold in memory (ServerOptions::max_queued_bytes).
  int64_t queued_bytes = 0;
  // Request bytes all connections hold unhandled (ServerOptions::max_request_buffer_bytes).
  int64_t request_bytes = 0;
  // Connections that stopped reading because queued_bytes is over the limit;
  // woken from the loop once it falls back under.
  std::unordered_map<uint64_t, std::weak_ptr<ConnectionImpl>> paused;
  bool wake_queued = false;
  // Asks the loop to resume the paused connections if the sum is under the limit.
  void maybe_wake_paused(const std::shared_ptr<ServerCore>& self);
  ~ServerCore();
};

// Logs `message` at warn unless this `last_ms` logged less than a second ago.
void warn_sampled(int64_t& last_ms, const std::string& message);

Result<std::unique_ptr<Server>> open_server(UvEventLoop& loop, const std::string& host_port,
                                            const ServerOptions& options, ConnectionHandler handler);

}  // namespace kreek::net
