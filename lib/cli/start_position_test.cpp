// --from parsing: names, offsets, unix ms, ISO 8601 and durations ago.
#include "cli/start_position.h"

#include <doctest/doctest.h>

using namespace kreek;
using Kind = cli::StartPosition::Kind;

TEST_SUITE("cli") {
  constexpr int64_t kNow = 1700000000000;

  TEST_CASE("from accepts beginning and end and their Kafka names") {
    CHECK(cli::parse_start_position("beginning", kNow)->kind == Kind::kBeginning);
    CHECK(cli::parse_start_position("earliest", kNow)->kind == Kind::kBeginning);
    CHECK(cli::parse_start_position("end", kNow)->kind == Kind::kEnd);
    CHECK(cli::parse_start_position("latest", kNow)->kind == Kind::kEnd);
  }

  TEST_CASE("from with bare digits is an offset") {
    auto p = cli::parse_start_position("123", kNow);
    REQUIRE(p.is_ok());
    CHECK(p->kind == Kind::kOffset);
    CHECK(p->value == 123);
  }

  TEST_CASE("from @ms is a unix time in milliseconds") {
    auto p = cli::parse_start_position("@1699999999000", kNow);
    REQUIRE(p.is_ok());
    CHECK(p->kind == Kind::kTime);
    CHECK(p->value == 1699999999000);
  }

  TEST_CASE("from takes an ISO 8601 time") {
    auto p = cli::parse_start_position("2023-11-14T22:13:20Z", kNow);
    REQUIRE(p.is_ok());
    CHECK(p->kind == Kind::kTime);
    CHECK(p->value == 1700000000000);
  }

  TEST_CASE("from takes a duration ago") {
    auto p = cli::parse_start_position("15m", kNow);
    REQUIRE(p.is_ok());
    CHECK(p->kind == Kind::kTime);
    CHECK(p->value == kNow - 15 * 60 * 1000);
    CHECK(cli::parse_start_position("2h", kNow)->value == kNow - 2 * 3600 * 1000);
  }

  TEST_CASE("from rejects anything else") {
    for (const char* bad : {"", "yesterday", "-5", "@", "@x", "12abc"})
      CHECK(cli::parse_start_position(bad, kNow).status().code() == Code::kInvalidRequest);
  }
}
