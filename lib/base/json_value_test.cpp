// The checked JSON reads: integers in range come through; floats, strings,
// numbers out of range and unsigned values past INT64_MAX do not; members of
// the wrong type give the fallback, never an exception. Both JSON types.
#include "base/json_value.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using kreek::json_int_in;

TEST_CASE_TEMPLATE("json_int_in takes integers in range and nothing else", Json, nlohmann::json,
                   nlohmann::ordered_json) {
  CHECK(json_int_in(Json::parse("42"), 0, 100) == 42);
  CHECK(json_int_in(Json::parse("-7"), -10, 10) == -7);
  CHECK(json_int_in(Json::parse("0"), 0, 0) == 0);
  CHECK(json_int_in(Json::parse("100"), 0, 100) == 100);
  CHECK(json_int_in(Json::parse("9223372036854775807")) == INT64_MAX);
  CHECK(json_int_in(Json::parse("-9223372036854775808")) == INT64_MIN);

  CHECK_FALSE(json_int_in(Json::parse("101"), 0, 100));
  CHECK_FALSE(json_int_in(Json::parse("-1"), 0, 100));
  CHECK_FALSE(json_int_in(Json::parse("4294967298"), 1, 10000));  // would wrap to 2 as int32
  CHECK_FALSE(json_int_in(Json::parse("9223372036854775808")));    // unsigned past INT64_MAX
  CHECK_FALSE(json_int_in(Json::parse("18446744073709551615")));
  CHECK_FALSE(json_int_in(Json::parse("1.0"), 0, 100));  // an integral float is still a float
  CHECK_FALSE(json_int_in(Json::parse("1.1e70")));
  CHECK_FALSE(json_int_in(Json::parse("\"5\""), 0, 100));
  CHECK_FALSE(json_int_in(Json::parse("true"), 0, 100));
  CHECK_FALSE(json_int_in(Json::parse("null")));
  CHECK_FALSE(json_int_in(Json::parse("[5]"), 0, 100));
}

TEST_CASE_TEMPLATE("json_member_int, json_flag and json_string_or never throw on a member of the wrong type", Json,
                   nlohmann::json, nlohmann::ordered_json) {
  Json j = Json::parse(R"({"n":7,"big":18446744073709551615,"f":2.5,"s":"x","t":true,"no":false,"one":1})");
  CHECK(kreek::json_member_int(j, "n", 0, 10) == 7);
  CHECK_FALSE(kreek::json_member_int(j, "n", 8, 10));
  CHECK_FALSE(kreek::json_member_int(j, "big"));
  CHECK_FALSE(kreek::json_member_int(j, "f"));
  CHECK_FALSE(kreek::json_member_int(j, "s"));
  CHECK_FALSE(kreek::json_member_int(j, "absent"));
  CHECK_FALSE(kreek::json_member_int(Json::parse("[1,2]"), "n"));
  CHECK_FALSE(kreek::json_member_int(Json::parse("3"), "n"));

  CHECK(kreek::json_flag(j, "t"));
  CHECK_FALSE(kreek::json_flag(j, "no"));
  CHECK_FALSE(kreek::json_flag(j, "one"));  // 1 is not true
  CHECK_FALSE(kreek::json_flag(j, "s"));
  CHECK_FALSE(kreek::json_flag(j, "absent"));
  CHECK_FALSE(kreek::json_flag(Json::parse("\"ok\""), "ok"));

  CHECK(kreek::json_string_or(j, "s") == "x");
  CHECK(kreek::json_string_or(j, "n", "dflt") == "dflt");
  CHECK(kreek::json_string_or(j, "absent") == "");
  CHECK(kreek::json_string_or(Json::parse("null"), "s", "d") == "d");
}
