// Log lines stay single lines and carry no raw control characters, whatever a
// client put in a topic name or a request.
#include "base/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cstdio>
#include <string>

using namespace kreek;

namespace {

// What `fn` writes to stderr (fd 2).
template <typename Fn>
std::string captured_stderr(Fn fn) {
  char path[] = "/tmp/kreek-log-test-XXXXXX";
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

}  // namespace

TEST_SUITE("base") {
  TEST_CASE("control characters in a log message are escaped, newlines become spaces") {
    std::string out = captured_stderr([] { log::warn("topic \"a\x1b[31mb\x07\" at\ttab\nnext\rline"); });
    CHECK(out.find("topic \"a\\x1b[31mb\\x07\" at\\x09tab next line\n") != std::string::npos);
    CHECK(out.find('\x1b') == std::string::npos);
    CHECK(out.find('\n') == out.size() - 1);
  }

  TEST_CASE("UTF-8 in a log message is left as it is") {
    std::string out = captured_stderr([] { log::warn("caf\xc3\xa9 \x7f"); });
    CHECK(out.find("caf\xc3\xa9 \\x7f\n") != std::string::npos);
  }
}
