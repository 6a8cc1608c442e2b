// ResponseSlot: completion of one reserved response, forwarded to its
// connection if that is still open.
#include "net/response_slot.h"

#include "base/log.h"
#include "net/connection.h"

namespace kreek::net {

ResponseSlot::Impl::~Impl() {
  if (done) return;
  auto c = conn.lock();
  if (!c || !c->is_open()) return;
  log::warn("response slot on connection " + c->peer() + " dropped without a response");
  c->complete(seq, Response{});
}

void ResponseSlot::complete(Response r) {
  if (!impl_ || impl_->done) return;
  impl_->done = true;
  if (auto c = impl_->conn.lock()) c->complete(impl_->seq, std::move(r));
}

void ResponseSlot::complete_empty() { complete(Response{}); }

void ResponseSlot::complete_and_close() {
  if (!impl_ || impl_->done) return;
  auto c = impl_->conn.lock();
  complete_empty();
  if (c) c->close();
}

bool ResponseSlot::connection_open() const {
  if (!impl_) return false;
  auto c = impl_->conn.lock();
  return c && c->is_open();
}

}  // namespace kreek::net
