// Internal to lib/net: the libuv-backed EventLoop and the HandleBox every libuv
// handle lives in. handle->data points at its box and the close callback deletes
// the box, so stop() can close any handle without knowing its type.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <vector>

#include "net/net.h"

namespace kreek::net {

// Owner of one libuv handle. Lifetime: created with new, deleted by the close
// callback after close(); never deleted directly once the handle is initialised.
struct HandleBox {
  virtual ~HandleBox() = default;
  virtual uv_handle_t* handle() = 0;
  bool closing() const { return closing_; }
  // Starts closing the handle (idempotent). The box is deleted later, on the
  // loop, from libuv's close callback; subclasses react in their destructor.
  void close();

 private:
  bool closing_ = false;
};

template <typename H>
struct TypedBox : HandleBox {
  H h{};
  uv_handle_t* handle() override { return reinterpret_cast<uv_handle_t*>(&h); }
};

class UvEventLoop final : public EventLoop {
 public:
  UvEventLoop();
  ~UvEventLoop() override;

  Result<std::unique_ptr<Server>> listen(const std::string& host_port, const ServerOptions& options,
                                         ConnectionHandler handler) override;
  std::unique_ptr<Link> connect(const std::string& host_port, const LinkOptions& options,
                                LinkHandler handler) override;
  std::unique_ptr<Timer> make_timer() override;
  void on_signal(int signum, std::function<void(int)> cb) override;
  void queue_work(std::function<void()> work, std::function<void()> done) override;
  int run() override;
  void stop() override;

  uv_loop_t* uv() { return &loop_; }
  // True once stop() was called: no new handles are opened after that.
  bool stopping() const { return stopping_; }
  // Runs `fn` on the loop soon, outside the current call stack (used to resume a
  // connection's buffered lines without re-entering the caller of complete()).
  void defer(std::function<void()> fn);

 private:
  struct IdleBox;
  void run_deferred();

  uv_loop_t loop_{};
  bool stopping_ = false;
  bool closed_ = false;
  IdleBox* idle_ = nullptr;  // lazily opened; null after it closes
  std::vector<std::function<void()>> deferred_;
};

}  // namespace kreek::net
