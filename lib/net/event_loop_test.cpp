// EventLoop: timers, the worker pool, signals and a stop() that leaves the
// loop closable whatever is still open.
#include <doctest/doctest.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "net/net.h"

using namespace kreek::net;

TEST_SUITE("net") {
  TEST_CASE("a repeating timer fires until stopped and a one-shot timer fires once") {
    auto loop = EventLoop::create();
    auto repeat = loop->make_timer();
    auto once = loop->make_timer();
    int ticks = 0, once_fired = 0;
    once->start(1, 0, [&] { ++once_fired; });
    repeat->start(1, 2, [&] {
      if (++ticks < 3) return;
      repeat->stop();
      loop->stop();
    });
    CHECK(loop->run() == 0);
    CHECK(ticks == 3);
    CHECK(once_fired == 1);
  }

  TEST_CASE("a timer may restart or destroy itself from its own callback") {
    auto loop = EventLoop::create();
    auto t = loop->make_timer();
    int fired = 0;
    t->start(0, 0, [&] {
      ++fired;
      t->start(1, 0, [&] {
        ++fired;
        t.reset();
        loop->stop();
      });
    });
    CHECK(loop->run() == 0);
    CHECK(fired == 2);
  }

  TEST_CASE("queue_work runs work on a worker thread and done on the loop thread") {
    auto loop = EventLoop::create();
    auto loop_thread = std::this_thread::get_id();
    std::thread::id work_thread, done_thread;
    loop->queue_work([&] { work_thread = std::this_thread::get_id(); },
                     [&] {
                       done_thread = std::this_thread::get_id();
                       loop->stop();
                     });
    CHECK(loop->run() == 0);
    CHECK(work_thread != loop_thread);
    CHECK(done_thread == loop_thread);
  }

  TEST_CASE("a signal is delivered on the loop thread") {
    auto loop = EventLoop::create();
    int got = 0;
    loop->on_signal(SIGUSR1, [&](int n) {
      got = n;
      loop->stop();
    });
    auto t = loop->make_timer();
    t->start(1, 0, [] { raise(SIGUSR1); });
    CHECK(loop->run() == 0);
    CHECK(got == SIGUSR1);
  }

  TEST_CASE("stop closes handles that are still active so the loop closes cleanly") {
    auto loop = EventLoop::create();
    loop->on_signal(SIGUSR2, [](int) {});
    auto busy = loop->make_timer();
    busy->start(1000000, 1000000, [] {});
    auto idle = loop->make_timer();  // never started
    auto server = loop->listen("127.0.0.1:0", {}, {});
    REQUIRE(server.is_ok());
    auto stopper = loop->make_timer();
    stopper->start(1, 0, [&] { loop->stop(); });
    CHECK(loop->run() == 0);
    // The objects outlive their handles; using and destroying them is harmless.
    busy->start(1, 0, [] {});
    busy->stop();
    (*server)->stop_accepting();
    (*server)->close_all();
    CHECK((*server)->connection_count() == 0);
    auto late = loop->make_timer();
    late->start(1, 0, [] {});
  }

  TEST_CASE("destroying a loop that never ran closes what it opened") {
    auto loop = EventLoop::create();
    auto t = loop->make_timer();
    t->start(5, 5, [] {});
    auto server = loop->listen("127.0.0.1:0", {}, {});
    REQUIRE(server.is_ok());
    loop.reset();  // must not leak or crash; the timer and server are now inert
    t->stop();
    CHECK((*server)->connection_count() == 0);
  }
}
