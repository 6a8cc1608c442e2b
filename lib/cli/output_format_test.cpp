// kconsume output: bare values, JSON envelopes and --format strings.
#include "cli/output_format.h"

#include <doctest/doctest.h>

using namespace kreek;

namespace {

std::string render(const cli::RecordFormatter& f, const proto::Record& rec, int64_t offset = 7) {
  client::ConsumedRecord r;
  r.topic = "orders";
  r.partition = 2;
  r.offset = offset;
  r.timestamp = 1700000000123;
  r.record = &rec;
  std::string out;
  f.append(out, r);
  return out;
}

proto::Record sample() {
  proto::Record rec;
  rec.key = "k1";
  rec.value = "hello";
  rec.headers = {{"a", "1"}, {"b", "2"}};
  return rec;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("the default output is the bare value and a newline") {
    CHECK(render(cli::RecordFormatter::value_only(), sample()) == "hello\n");
    proto::Record tomb;
    CHECK(render(cli::RecordFormatter::value_only(), tomb) == "\n");
  }

  TEST_CASE("format directives expand to the record's fields") {
    auto f = cli::RecordFormatter::from_format("%t/%p@%o %k=%v %T [%h] 100%%\\n");
    REQUIRE(f.is_ok());
    CHECK(render(*f, sample()) == "orders/2@7 k1=hello 1700000000123 [a=1,b=2] 100%\n");
  }

  TEST_CASE("a format string gets no newline unless it asks for one") {
    auto f = cli::RecordFormatter::from_format("%v");
    REQUIRE(f.is_ok());
    CHECK(render(*f, sample()) == "hello");
  }

  TEST_CASE("format escapes are \\n \\t \\\\ and others stay as written") {
    auto f = cli::RecordFormatter::from_format("%k\\t%v\\\\\\q");
    REQUIRE(f.is_ok());
    CHECK(render(*f, sample()) == "k1\thello\\\\q");
  }

  TEST_CASE("a null key prints as nothing in a format") {
    auto f = cli::RecordFormatter::from_format("[%k]");
    REQUIRE(f.is_ok());
    proto::Record rec;
    rec.value = "v";
    CHECK(render(*f, rec) == "[]");
  }

  TEST_CASE("--null tells a null key and value from empty ones") {
    auto f = cli::RecordFormatter::from_format("[%k][%v]");
    REQUIRE(f.is_ok());
    f->set_null_text("NULL");
    proto::Record nulls;
    CHECK(render(*f, nulls) == "[NULL][NULL]");
    proto::Record empties;
    empties.key = "";
    empties.value = "";
    CHECK(render(*f, empties) == "[][]");
    auto bare = cli::RecordFormatter::value_only();
    bare.set_null_text("NULL");
    CHECK(render(bare, nulls) == "NULL\n");
  }

  TEST_CASE("an unknown format directive is an error") {
    auto f = cli::RecordFormatter::from_format("%v %x");
    CHECK(f.status().code() == Code::kInvalidRequest);
    CHECK(f.status().message().find("%x") != std::string::npos);
    CHECK_FALSE(cli::RecordFormatter::from_format("50%").is_ok());
  }

  TEST_CASE("the json envelope has the canonical key order") {
    CHECK(render(cli::RecordFormatter::json(), sample()) ==
          "{\"topic\":\"orders\",\"partition\":2,\"offset\":7,\"timestamp\":1700000000123,"
          "\"key\":\"k1\",\"value\":\"hello\",\"headers\":{\"a\":\"1\",\"b\":\"2\"}}\n");
  }

  TEST_CASE("the json envelope uses value64 and key64 for bytes that are not UTF-8") {
    proto::Record rec;
    rec.key = std::string("\xff", 1);
    rec.value = std::string("a\xfe", 2);
    std::string out = render(cli::RecordFormatter::json(), rec);
    CHECK(out.find("\"key64\":\"/w==\"") != std::string::npos);
    CHECK(out.find("\"value64\":\"Yf4=\"") != std::string::npos);
    proto::Record nulls;
    out = render(cli::RecordFormatter::json(), nulls);
    CHECK(out.find("\"key\":null,\"value\":null,\"headers\":{}") != std::string::npos);
  }
}
