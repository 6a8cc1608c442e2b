// record_split: record boundaries, decoded keys and tombstones in the records
// arrays the broker stores.
#include "storage/record_split.h"

#include <doctest/doctest.h>

using namespace kreek;
using namespace kreek::storage;

TEST_SUITE("storage compaction") {
  TEST_CASE("records split into byte ranges with decoded keys and tombstones") {
    std::string a = R"([{"key":"a","value":"x,}]"},{"key":"a\u0062","value":null},{"value":"v"},)"
                    R"({"key64":"YWI=","headers":{"h":"{["},"ts":5},{"key":"c"}, {"key":null,"value64":"AA=="}])";
    std::vector<RecordSpan> out;
    REQUIRE(split_records(a, out).is_ok());
    REQUIRE(out.size() == 6);
    CHECK(a.substr(out[0].begin, out[0].end - out[0].begin) == R"({"key":"a","value":"x,}]"})");
    CHECK(out[0].keyed);
    CHECK(out[0].key == "a");
    CHECK_FALSE(out[0].tombstone);
    CHECK(out[1].key == "ab");  // escaped
    CHECK(out[1].tombstone);
    CHECK_FALSE(out[2].keyed);
    CHECK(out[3].key == "ab");  // base64 of the same bytes: the same key
    CHECK(out[3].tombstone);    // no value at all
    CHECK(out[4].key == "c");
    CHECK(a.substr(out[4].begin, out[4].end - out[4].begin) == R"({"key":"c"})");
    REQUIRE(split_records(R"([{"key":null,"value64":"AA=="}])", out).is_ok());
    CHECK_FALSE(out[0].keyed);
    CHECK_FALSE(out[0].tombstone);
  }

  TEST_CASE("malformed records arrays are corrupt, never a crash") {
    std::vector<RecordSpan> out;
    for (const char* bad : {"", "[", "[{", R"([{"key":"a")", "[1]", R"([{"key" "a"}])", R"([{"key":"a"} )"}) {
      CAPTURE(bad);
      CHECK(split_records(bad, out).code() == Code::kCorrupt);
    }
  }
}
