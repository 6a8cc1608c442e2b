// The broker's log limiter: bad requests and failed appends (a full disk fails
// every produce) log at most WarnLimiter::kPerSecond lines a second, at their
// own level, then one count of what was left out.
#include <doctest/doctest.h>

#include <string>

#include "base/captured_stderr_test.h"
#include "broker/broker_context.h"

using namespace kreek;

namespace {

using kreek::testing::captured_stderr;

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_SUITE("broker") {
  TEST_CASE("a burst of failed appends logs at most kPerSecond error lines") {
    log::Level saved = log::level();
    log::set_level(log::Level::kInfo);
    broker::WarnLimiter limiter;
    std::string out = captured_stderr([&] {
      for (int i = 0; i < 1000; ++i)
        limiter.warn("append t/0: write: No space left on device", log::Level::kError);
    });
    log::set_level(saved);
    CHECK(count(out, " error append t/0") == broker::WarnLimiter::kPerSecond);
    CHECK(count(out, "\n") == broker::WarnLimiter::kPerSecond);
  }

  TEST_CASE("a warning past the limit, or below the log level, is never formatted") {
    log::Level saved = log::level();
    log::set_level(log::Level::kInfo);
    broker::WarnLimiter limiter;
    int built = 0;
    std::string out = captured_stderr([&] {
      for (int i = 0; i < 1000; ++i)
        limiter.warn_lazily([&] {
          ++built;
          return std::string("bad produce from 127.0.0.1:1: invalid JSON");
        });
    });
    CHECK(built == broker::WarnLimiter::kPerSecond);
    CHECK(count(out, " warn bad produce") == broker::WarnLimiter::kPerSecond);

    log::set_level(log::Level::kError);
    broker::WarnLimiter quiet;
    built = 0;
    out = captured_stderr([&] {
      quiet.warn_lazily([&] {
        ++built;
        return std::string("bad hello");
      });
    });
    log::set_level(saved);
    CHECK(built == 0);
    CHECK(out.empty());
  }
}
