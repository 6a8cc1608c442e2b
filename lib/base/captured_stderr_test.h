// For unit tests: what a piece of code writes to stderr (fd 2), through a temp
// file, so log lines can be checked as users see them.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <string>

namespace kreek::testing {

template <typename Fn>
std::string captured_stderr(Fn fn) {
  char path[] = "/tmp/kreek-stderr-test-XXXXXX";
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

}  // namespace kreek::testing
