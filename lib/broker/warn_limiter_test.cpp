// The broker's log limiter: bad requests and failed appends (a full disk fails
// every produce) log at most WarnLimiter::kPerSecond lines a second, at their
// own level, then one count of what was left out.
#include <fcntl.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <string>

#include "broker/broker_context.h"

using namespace kreek;

namespace {

template <typename Fn>
std::string captured_stderr(Fn fn) {
  char path[] = "/tmp/kreek-warn-test-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  int saved = ::dup(2);
  ::dup2(fd, 2);
  fn();
  ::dup2(saved, 2);
  ::close(saved);
  std::string out;
  char buf[4096];
  ::lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  ::unlink(path);
  return out;
}

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
}
