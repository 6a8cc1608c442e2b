// Internal to lib/net: what a ResponseSlot points at — its connection (weakly:
// a slot may outlive the connection) and its place in the response order.
#pragma once

#include <cstdint>
#include <memory>

#include "net/net.h"

namespace kreek::net {

class ConnectionImpl;

struct ResponseSlot::Impl {
  std::weak_ptr<ConnectionImpl> conn;
  uint64_t seq = 0;
  bool done = false;
  // A slot dropped without a response is completed empty, so one lost slot
  // cannot hold back every later response on its connection.
  ~Impl();
};

}  // namespace kreek::net
