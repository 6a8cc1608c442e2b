// to_json() must give what nlohmann's parser gives for the same text, since
// every op but produce now reads its request through it.
#include "proto/json_tree.h"

#include <doctest/doctest.h>

#include <string>

using kreek::proto::JsonScan;
using kreek::proto::to_json;
using json = nlohmann::ordered_json;

namespace {
json via_scan(const std::string& text) {
  JsonScan scan;
  REQUIRE(scan.scan(text).is_ok());
  auto r = to_json(scan);
  REQUIRE(r.is_ok());
  return *r;
}
}  // namespace

TEST_SUITE("proto") {
  TEST_CASE("to_json matches nlohmann's parser") {
    for (const char* text : {
             R"({"op":"hello","id":7,"x":[1,-2,3.5,1e3,true,false,null,"s\u00e9\n\"q\""],"o":{}})",
             R"([18446744073709551615,-9223372036854775808,18446744073709551616,-9223372036854775809])",
             R"({"a":1,"b":{"c":[[],[{}]]}})", R"("just a string")", R"(-0)", R"(1e-400)",
             R"({"k":"\ud83d\ude00"})"}) {
      CAPTURE(text);
      json ours = via_scan(text);
      json theirs = json::parse(text);
      CHECK(ours == theirs);
      CHECK(ours.dump() == theirs.dump());
      CHECK(ours.type() == theirs.type());
    }
  }

  TEST_CASE("to_json keeps integers' kinds: unsigned, signed, or double past 64 bits") {
    json j = via_scan(R"([5,-5,99999999999999999999])");
    CHECK(j[0].is_number_unsigned());
    CHECK(j[1].is_number_integer());
    CHECK(j[1].get<int64_t>() == -5);
    CHECK(j[2].is_number_float());
  }

  TEST_CASE("a big object with a repeated key is refused by the scan, before to_json") {
    std::string text = "{";
    for (int i = 0; i < 1000; ++i) text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    text += "\"k5\":\"again\"}";
    JsonScan scan;
    CHECK_FALSE(scan.scan(text).is_ok());
  }


  TEST_CASE("to_json refuses a number no double holds") {
    JsonScan scan;
    REQUIRE(scan.scan(R"({"id":1e999})").is_ok());
    auto r = to_json(scan);
    REQUIRE(!r.is_ok());
    CHECK(r.status().code() == kreek::Code::kInvalidRequest);
    CHECK(r.status().message().find("1e999") != std::string::npos);
  }
}
