// kproduce input: line splitting across reads and line -> record conversion.
#include "cli/line_record.h"

#include <doctest/doctest.h>

#include <vector>

#include "cli/line_splitter.h"

using namespace kreek;

namespace {

std::vector<std::string> split(const std::vector<std::string>& chunks) {
  cli::LineSplitter s;
  std::vector<std::string> lines;
  auto on = [&](std::string_view l) { lines.emplace_back(l); };
  for (const auto& c : chunks) s.feed(c, on);
  s.finish(on);
  return lines;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("lines split on newline and the newline is stripped") {
    CHECK(split({"a\nbb\n"}) == std::vector<std::string>{"a", "bb"});
  }

  TEST_CASE("a final line without a newline is still a line") {
    CHECK(split({"a\nlast"}) == std::vector<std::string>{"a", "last"});
  }

  TEST_CASE("a line split across reads is joined") {
    CHECK(split({"hel", "lo\nwo", "r", "ld\n"}) == std::vector<std::string>{"hello", "world"});
  }

  TEST_CASE("empty lines are records and carriage returns are kept") {
    CHECK(split({"\n\r\nx\r\n"}) == std::vector<std::string>{"", "\r", "x\r"});
  }

  TEST_CASE("no input gives no lines") { CHECK(split({}).empty()); }

  TEST_CASE("-K splits at the first separator, and a line without one has a null key") {
    cli::LineFormat f;
    f.separator = "::";
    cli::LineRecordParser p(f);
    proto::Record r;
    std::optional<int32_t> part;
    REQUIRE(p.parse("user1::a::b", r, part).is_ok());
    CHECK(r.key == std::optional<std::string>("user1"));
    CHECK(r.value == std::optional<std::string>("a::b"));
    REQUIRE(p.parse("no separator", r, part).is_ok());
    CHECK_FALSE(r.key.has_value());
    CHECK(r.value == std::optional<std::string>("no separator"));
  }

  TEST_CASE("-k puts the same key and -H the same headers on every record") {
    cli::LineFormat f;
    f.key = "k";
    f.headers = {{"h", "x"}};
    cli::LineRecordParser p(f);
    proto::Record r;
    std::optional<int32_t> part;
    REQUIRE(p.parse("v", r, part).is_ok());
    CHECK(r.key == std::optional<std::string>("k"));
    CHECK(r.headers.size() == 1);
    CHECK_FALSE(part.has_value());
  }

  TEST_CASE("json input reads the envelope kconsume prints") {
    cli::LineFormat f;
    f.json = true;
    cli::LineRecordParser p(f);
    proto::Record r;
    std::optional<int32_t> part;
    REQUIRE(p.parse(R"({"topic":"t","partition":3,"offset":9,"timestamp":5,"key":null,)"
                    R"("value64":"/w==","headers":{"a":"1"}})",
                    r, part)
                .is_ok());
    CHECK_FALSE(r.key.has_value());
    CHECK(r.value == std::optional<std::string>(std::string("\xff", 1)));
    CHECK(r.ts == std::optional<int64_t>(5));
    CHECK(part == std::optional<int32_t>(3));
    REQUIRE(r.headers.size() == 1);
    CHECK(r.headers[0].first == "a");
  }

  TEST_CASE("a bad json input line is CORRUPT_RECORD") {
    cli::LineFormat f;
    f.json = true;
    cli::LineRecordParser p(f);
    proto::Record r;
    std::optional<int32_t> part;
    CHECK(p.parse("{nope", r, part).code() == Code::kCorrupt);
    CHECK(p.parse("[1]", r, part).code() == Code::kCorrupt);
    CHECK(p.parse(R"({"value":1})", r, part).code() == Code::kCorrupt);
  }
}
