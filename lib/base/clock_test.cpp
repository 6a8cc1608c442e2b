// ISO 8601 and duration parsing, the two ways users name a time.
#include "base/clock.h"

#include <doctest/doctest.h>

using namespace kreek;

TEST_SUITE("base") {
  TEST_CASE("iso 8601 timestamps parse to unix milliseconds") {
    CHECK(parse_iso8601("1970-01-01T00:00:00Z") == 0);
    CHECK(parse_iso8601("2024-02-29T12:00:00.250Z") == 1709208000250);
    CHECK(parse_iso8601("2024-02-29") == 1709164800000);
    CHECK(parse_iso8601("2024-02-29T13:00:00+01:00") == 1709208000000);
    CHECK(parse_iso8601("2024-02-29T12:00") == 1709208000000);
    CHECK_FALSE(parse_iso8601("yesterday"));
    CHECK_FALSE(parse_iso8601("2024-13-01"));
    CHECK_FALSE(parse_iso8601("2024-02-29T12:00:00Zjunk"));
  }

  TEST_CASE("iso 8601 formatting round-trips") {
    CHECK(format_iso8601(1709208000250) == "2024-02-29T12:00:00.250Z");
    CHECK(parse_iso8601(format_iso8601(1234567890123)) == 1234567890123);
  }

  TEST_CASE("durations take ms, s, m, h, d, w") {
    CHECK(parse_duration_ms("15m") == 900000);
    CHECK(parse_duration_ms("2h") == 7200000);
    CHECK(parse_duration_ms("250") == 250);
    CHECK(parse_duration_ms("1d") == 86400000);
    CHECK_FALSE(parse_duration_ms("-5m"));
    CHECK_FALSE(parse_duration_ms("5 parsecs"));
    CHECK_FALSE(parse_duration_ms(""));
  }
}
