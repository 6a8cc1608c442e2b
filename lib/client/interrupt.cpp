// The stop flag behind interrupt.h: a lock-free atomic, so a signal handler may set it.
#include "client/interrupt.h"

#include <atomic>

namespace kreek::client {
namespace {
std::atomic<bool> g_stop{false};
std::atomic<bool> g_aborts_io{true};
static_assert(std::atomic<bool>::is_always_lock_free);
}  // namespace

void request_stop() { g_stop.store(true, std::memory_order_relaxed); }
bool stop_requested() { return g_stop.load(std::memory_order_relaxed); }
void clear_stop() { g_stop.store(false, std::memory_order_relaxed); }
void set_stop_aborts_io(bool on) { g_aborts_io.store(on, std::memory_order_relaxed); }
bool stop_aborts_io() {
  return g_aborts_io.load(std::memory_order_relaxed) && g_stop.load(std::memory_order_relaxed);
}

}  // namespace kreek::client
