// json_int_in: integers in range come through; floats, strings, numbers out
// of range and unsigned values past INT64_MAX do not, for both JSON types.
#include "base/json_int.h"

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
