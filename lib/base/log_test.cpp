// Log lines stay single lines and carry no raw control characters, whatever a
// client put in a topic name or a request.
#include "base/log.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "base/captured_stderr_test.h"

using namespace kreek;
using kreek::testing::captured_stderr;

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
