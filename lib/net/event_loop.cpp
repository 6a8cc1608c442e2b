// UvEventLoop: the EventLoop over one uv_loop_t, with timers, signals, the
// worker pool and an orderly stop() that closes every handle so the loop can be
// closed (uv_loop_close == 0) and nothing leaks.
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "base/log.h"
#include "net/tcp_link.h"
#include "net/tcp_server.h"
#include "net/uv_loop.h"

namespace kreek::net {

void HandleBox::close() {
  if (closing_) return;
  closing_ = true;
  uv_close(handle(), [](uv_handle_t* h) { delete static_cast<HandleBox*>(h->data); });
}

namespace {

class UvTimer final : public Timer {
 public:
  explicit UvTimer(UvEventLoop& loop) {
    if (loop.stopping()) return;  // inert: start() does nothing once the loop is stopping
    box_ = new Box;
    uv_timer_init(loop.uv(), &box_->h);
    box_->h.data = static_cast<HandleBox*>(box_);
    box_->owner = this;
  }
  ~UvTimer() override {
    if (box_ == nullptr) return;
    box_->owner = nullptr;
    box_->close();
  }

  void start(int64_t delay_ms, int64_t repeat_ms, std::function<void()> cb) override {
    if (box_ == nullptr || box_->closing()) return;
    box_->cb = std::make_shared<std::function<void()>>(std::move(cb));
    uv_timer_start(&box_->h, &UvTimer::fire, static_cast<uint64_t>(std::max<int64_t>(0, delay_ms)),
                   static_cast<uint64_t>(std::max<int64_t>(0, repeat_ms)));
  }
  void stop() override {
    if (box_ != nullptr && !box_->closing()) uv_timer_stop(&box_->h);
  }

 private:
  struct Box : TypedBox<uv_timer_t> {
    UvTimer* owner = nullptr;
    // Shared so a callback that restarts or destroys its own timer keeps
    // running on a live function object.
    std::shared_ptr<std::function<void()>> cb;
    ~Box() override {
      if (owner != nullptr) owner->box_ = nullptr;
    }
  };

  static void fire(uv_timer_t* t) {
    auto* box = static_cast<Box*>(static_cast<HandleBox*>(t->data));
    auto cb = box->cb;
    if (cb && *cb) (*cb)();
  }

  Box* box_ = nullptr;  // null when inert or once the loop closed the handle
};

struct SignalBox : TypedBox<uv_signal_t> {
  std::function<void(int)> cb;
};

struct WorkItem {
  uv_work_t req{};
  std::function<void()> work;
  std::function<void()> done;
};

}  // namespace

struct UvEventLoop::IdleBox : TypedBox<uv_idle_t> {
  UvEventLoop* loop = nullptr;
  ~IdleBox() override {
    if (loop != nullptr) loop->idle_ = nullptr;
  }
};

std::unique_ptr<EventLoop> EventLoop::create() {
  // Writes to a peer that has gone raise SIGPIPE, and sendfile(2) has no
  // MSG_NOSIGNAL: a server must not die of it. Only the default action is
  // replaced, so a process that chose its own handler keeps it.
  struct sigaction old {};
  if (sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) signal(SIGPIPE, SIG_IGN);
  return std::make_unique<UvEventLoop>();
}

UvEventLoop::UvEventLoop() {
  int rc = uv_loop_init(&loop_);
  // Invariant: uv_loop_init fails only when the process is out of fds or memory.
  if (rc != 0) {
    log::error(std::string("init event loop: ") + uv_strerror(rc));
    std::abort();
  }
}

UvEventLoop::~UvEventLoop() {
  if (closed_) return;
  stop();
  uv_run(&loop_, UV_RUN_DEFAULT);  // runs close callbacks and waits for queued work
  int rc = uv_loop_close(&loop_);
  if (rc != 0) log::error(std::string("close event loop: ") + uv_strerror(rc));
}

Result<std::unique_ptr<Server>> UvEventLoop::listen(const std::string& host_port,
                                                   const ServerOptions& options,
                                                   ConnectionHandler handler) {
  if (stopping_) return Status(Code::kUnavailable, "listen " + host_port + ": event loop is stopping");
  return open_server(*this, host_port, options, std::move(handler));
}

std::unique_ptr<Link> UvEventLoop::connect(const std::string& host_port, const LinkOptions& options,
                                          LinkHandler handler) {
  return open_link(*this, host_port, options, std::move(handler));
}

std::unique_ptr<Timer> UvEventLoop::make_timer() { return std::make_unique<UvTimer>(*this); }

void UvEventLoop::on_signal(int signum, std::function<void(int)> cb) {
  if (stopping_) return;
  auto* box = new SignalBox;
  uv_signal_init(&loop_, &box->h);
  box->h.data = static_cast<HandleBox*>(box);
  box->cb = std::move(cb);
  int rc = uv_signal_start(
      &box->h,
      [](uv_signal_t* s, int n) {
        auto* b = static_cast<SignalBox*>(static_cast<HandleBox*>(s->data));
        if (b->cb) b->cb(n);
      },
      signum);
  if (rc != 0) {
    log::error("watch signal " + std::to_string(signum) + ": " + uv_strerror(rc));
    box->close();
  }
}

void UvEventLoop::queue_work(std::function<void()> work, std::function<void()> done) {
  if (closed_) {
    log::error("queue work: event loop is closed");
    return;
  }
  auto* item = new WorkItem;
  item->req.data = item;
  item->work = std::move(work);
  item->done = std::move(done);
  int rc = uv_queue_work(
      &loop_, &item->req,
      [](uv_work_t* r) {
        auto* w = static_cast<WorkItem*>(r->data);
        if (w->work) w->work();
      },
      // Both functions are destroyed here, on the loop thread, so whatever they
      // captured (response slots, connection state) never dies on a worker.
      [](uv_work_t* r, int status) {
        std::unique_ptr<WorkItem> w(static_cast<WorkItem*>(r->data));
        if (status == 0 && w->done) w->done();
      });
  if (rc != 0) {
    log::error(std::string("queue work: ") + uv_strerror(rc));
    delete item;
  }
}

int UvEventLoop::run() {
  if (closed_) return 0;
  uv_run(&loop_, UV_RUN_DEFAULT);
  // uv_run returns once nothing is active. Without stop() the loop simply ran
  // out of work and stays usable; after stop() every handle has closed.
  if (!stopping_) return 0;
  int rc = uv_loop_close(&loop_);
  if (rc == 0) {
    closed_ = true;
  } else {
    log::error(std::string("close event loop: ") + uv_strerror(rc));
  }
  return rc;
}

void UvEventLoop::stop() {
  if (closed_) return;
  stopping_ = true;
  deferred_.clear();
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) {
        if (h->data != nullptr && !uv_is_closing(h)) static_cast<HandleBox*>(h->data)->close();
      },
      nullptr);
}

void UvEventLoop::defer(std::function<void()> fn) {
  if (stopping_) return;  // every connection is closing; nothing left to resume
  deferred_.push_back(std::move(fn));
  if (idle_ == nullptr) {
    idle_ = new IdleBox;
    uv_idle_init(&loop_, &idle_->h);
    idle_->h.data = static_cast<HandleBox*>(idle_);
    idle_->loop = this;
  }
  if (!uv_is_active(idle_->handle())) {
    uv_idle_start(&idle_->h, [](uv_idle_t* i) {
      static_cast<IdleBox*>(static_cast<HandleBox*>(i->data))->loop->run_deferred();
    });
  }
}

void UvEventLoop::run_deferred() {
  std::vector<std::function<void()>> batch;
  batch.swap(deferred_);
  for (auto& fn : batch) fn();
  // An idle handle keeps the loop from blocking in poll, so it runs only while
  // there is deferred work.
  if (deferred_.empty() && idle_ != nullptr && !idle_->closing()) uv_idle_stop(&idle_->h);
}

}  // namespace kreek::net
