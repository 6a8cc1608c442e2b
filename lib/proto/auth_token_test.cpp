// The auth token file's checks, the constant-time comparison and the gate a
// server puts in front of each connection.
#include "proto/auth_token.h"

#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

using namespace kreek;
using namespace kreek::proto;

namespace {

std::string write_token_file(const std::string& contents, mode_t mode) {
  char tmpl[] = "/tmp/kreek-token-XXXXXX";
  int fd = ::mkstemp(tmpl);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()));
  ::close(fd);
  REQUIRE(::chmod(tmpl, mode) == 0);
  return tmpl;
}

}  // namespace

TEST_SUITE("proto") {
  TEST_CASE("a private token file is read without its trailing newline") {
    std::string path = write_token_file("s3cret-token\n", 0600);
    auto t = load_auth_token(path);
    REQUIRE(t.is_ok());
    CHECK(*t == "s3cret-token");
    ::unlink(path.c_str());
  }

  TEST_CASE("a token file readable by group or others is refused") {
    for (mode_t mode : {0644, 0640, 0604, 0620}) {
      CAPTURE(mode);
      std::string path = write_token_file("s3cret\n", mode);
      auto t = load_auth_token(path);
      REQUIRE_FALSE(t.is_ok());
      CHECK(t.status().message().find("chmod 600") != std::string::npos);
      ::unlink(path.c_str());
    }
  }

  TEST_CASE("empty, multi-line or binary tokens and missing files are refused") {
    for (const char* bad : {"", "\n\n", "two\nlines", "nul\x01"}) {
      CAPTURE(bad);
      std::string path = write_token_file(bad, 0600);
      CHECK_FALSE(load_auth_token(path).is_ok());
      ::unlink(path.c_str());
    }
    CHECK(load_auth_token("/nonexistent/token").status().code() == Code::kNotFound);
    CHECK_FALSE(load_auth_token("/tmp").is_ok());  // not a regular file
  }

  TEST_CASE("no --auth-token-file and no environment variable means no token") {
    ::unsetenv(kAuthTokenFileEnv);
    auto t = load_auth_token_from("");
    REQUIRE(t.is_ok());
    CHECK(t->empty());
    std::string path = write_token_file("from-env", 0600);
    ::setenv(kAuthTokenFileEnv, path.c_str(), 1);
    t = load_auth_token_from("");
    ::unsetenv(kAuthTokenFileEnv);
    REQUIRE(t.is_ok());
    CHECK(*t == "from-env");
    ::unlink(path.c_str());
  }

  TEST_CASE("token comparison needs every byte and the length to match") {
    CHECK(token_equals("abc", "abc"));
    CHECK_FALSE(token_equals("abc", "abd"));
    CHECK_FALSE(token_equals("abc", "ab"));
    CHECK_FALSE(token_equals("abc", "abcd"));
    CHECK_FALSE(token_equals("abc", ""));
  }

  TEST_CASE("loopback addresses are told apart from the rest") {
    CHECK(is_loopback_address("127.0.0.1:9092"));
    CHECK(is_loopback_address("localhost:0"));
    CHECK(is_loopback_address("[::1]:9092"));
    CHECK_FALSE(is_loopback_address("0.0.0.0:9092"));
    CHECK_FALSE(is_loopback_address("10.1.2.3:9092"));
    CHECK_FALSE(is_loopback_address("[::]:9092"));
  }

  TEST_CASE("the gate admits a connection after a hello with the right token, and only that one") {
    AuthGate gate("s3cr3t");
    std::string refusal, why;
    SUBCASE("no hello first") {
      CHECK_FALSE(gate.admit(1, R"({"id":7,"op":"metadata"})", refusal, why));
      CHECK(refusal.find(R"("id":7)") != std::string::npos);
      CHECK(refusal.find("UNAUTHORIZED") != std::string::npos);
      CHECK(refusal.find("s3cr3t") == std::string::npos);
    }
    SUBCASE("a wrong token") {
      CHECK_FALSE(gate.admit(1, R"({"id":1,"op":"hello","token":"nope"})", refusal, why));
      CHECK(refusal.find("wrong auth token") != std::string::npos);
      CHECK(why == "wrong auth token");
    }
    SUBCASE("a hello without a token") {
      CHECK_FALSE(gate.admit(1, R"({"id":1,"op":"hello"})", refusal, why));
    }
    SUBCASE("not JSON at all") {
      CHECK_FALSE(gate.admit(1, "GET / HTTP/1.1", refusal, why));
      CHECK(refusal.find(R"("id":null)") != std::string::npos);
    }
    SUBCASE("the right token") {
      CHECK(gate.admit(1, auth_hello_request("s3cr3t"), refusal, why));
      CHECK(gate.admit(1, R"({"id":2,"op":"metadata"})", refusal, why));
      CHECK_FALSE(gate.admit(2, R"({"id":2,"op":"metadata"})", refusal, why));
      gate.forget(1);
      CHECK_FALSE(gate.admit(1, R"({"id":3,"op":"metadata"})", refusal, why));
    }
    SUBCASE("without a token every line passes") {
      AuthGate open;
      CHECK(open.admit(9, "anything", refusal, why));
    }
  }
}
