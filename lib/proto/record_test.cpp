// Records: canonical encoding, the produce validation rules and their messages,
// decoding with buffer reuse, and strict base64.
#include "proto/record.h"

#include <doctest/doctest.h>

#include <string>

using namespace kreek;
using namespace kreek::proto;

namespace {

// Scans `{"records":<records>}` and validates it; "ok N" or the error message.
std::string validate(const std::string& records, int32_t max = 1000) {
  static JsonScan scan;
  static std::string text;
  text = R"({"records":)" + records + "}";
  Status s = scan.scan(text);
  if (!s.is_ok()) return "scan: " + s.message();
  auto r = validate_records(scan, static_cast<uint32_t>(scan.find(0, "records")), max);
  if (!r.is_ok()) return r.status().message();
  return "ok " + std::to_string(*r);
}

}  // namespace

TEST_SUITE("proto") {
  TEST_CASE("records encode canonically with absent fields omitted") {
    Record r;
    std::string out;
    append_record_json(out, r);
    CHECK(out == "{}");
    r.key = "k";
    r.value = "v\"\n";
    r.headers = {{"h", "x"}, {"h2", ""}};
    r.ts = 1700000000000;
    out.clear();
    append_record_json(out, r);
    CHECK(out == R"({"key":"k","value":"v\"\n","headers":{"h":"x","h2":""},"ts":1700000000000})");
    Record v;
    v.value = "only";
    CHECK(encode_records({v, r}) ==
          R"([{"value":"only"},{"key":"k","value":"v\"\n","headers":{"h":"x","h2":""},"ts":1700000000000}])");
  }

  TEST_CASE("bytes that are not UTF-8 travel as key64 and value64") {
    Record r;
    r.key = std::string("\xff\x00", 2);
    r.value = "\xc3\x28";
    std::string out;
    append_record_json(out, r);
    CHECK(out == R"({"key64":"/wA=","value64":"wyg="})");
    JsonScan s;
    REQUIRE(s.scan(out).is_ok());
    Record back;
    REQUIRE(decode_record(s, 0, back).is_ok());
    CHECK(back.key == r.key);
    CHECK(back.value == r.value);
  }

  TEST_CASE("records round trip through encode, validate and decode") {
    std::vector<Record> recs(3);
    recs[0].value = "plain";
    recs[1].key = "caf\xc3\xa9";
    recs[1].value = std::string("\x00\x01\xfe", 3);
    recs[1].headers = {{"a", "1"}, {"b", "\xe2\x82\xac"}};
    recs[2].ts = 0;
    const std::string text = encode_records(recs);
    JsonScan s;
    REQUIRE(s.scan(text).is_ok());
    auto n = validate_records(s, 0, 10);
    REQUIRE(n.is_ok());
    CHECK(*n == 3);
    Record r;
    uint32_t tok = 1;
    for (const Record& want : recs) {
      REQUIRE(decode_record(s, tok, r).is_ok());
      CHECK(r.key == want.key);
      CHECK(r.value == want.value);
      CHECK(r.headers == want.headers);
      CHECK(r.ts == want.ts);
      tok = s.at(tok).next;
    }
  }

  TEST_CASE("decode_record reuses the value buffer and resets absent fields") {
    JsonScan s;
    REQUIRE(s.scan(R"([{"key":"k","value":"a long value that does not fit inline","ts":5},{"value":"short"}])").is_ok());
    Record r;
    REQUIRE(decode_record(s, 1, r).is_ok());
    const char* buf = r.value->data();
    REQUIRE(decode_record(s, s.at(1).next, r).is_ok());
    CHECK(r.value == "short");
    CHECK(r.value->data() == buf);
    CHECK_FALSE(r.key.has_value());
    CHECK_FALSE(r.ts.has_value());
  }

  TEST_CASE("decode_record treats null key and value as absent and unescapes") {
    JsonScan s;
    REQUIRE(s.scan(R"({"key":null,"value":"a\u00e9\n","value_extra":1})").is_ok());
    Record r;
    REQUIRE(decode_record(s, 0, r).is_ok());
    CHECK_FALSE(r.key.has_value());
    CHECK(r.value == "a\xc3\xa9\n");
  }

  TEST_CASE("decode_record reports malformed records as corrupt") {
    JsonScan s;
    Record r;
    REQUIRE(s.scan(R"({"value":5})").is_ok());
    Status st = decode_record(s, 0, r);
    CHECK(st.code() == Code::kCorrupt);
    CHECK(st.message() == "record: value is not a string");
    REQUIRE(s.scan(R"({"value64":"abc"})").is_ok());
    CHECK(decode_record(s, 0, r).code() == Code::kCorrupt);
    REQUIRE(s.scan(R"([1])").is_ok());
    CHECK(decode_record(s, 0, r).code() == Code::kCorrupt);
  }

  TEST_CASE("validate_records accepts every allowed field") {
    CHECK(validate(R"([{}])") == "ok 1");
    CHECK(validate(R"([{"key":null,"value":null}])") == "ok 1");
    CHECK(validate(R"([{"key":"k","value":"v","headers":{"a":"1","b":""},"ts":0}])") == "ok 1");
    CHECK(validate(R"([{"key64":"AA==","value64":""},{"value64":"a\/8="}])") == "ok 2");
    CHECK(validate(R"([{"k\u0065y":"escaped field name"}])") == "ok 1");
  }

  TEST_CASE("validate_records names the record and field that break a rule") {
    CHECK(validate(R"({})") == "records: expected array");
    CHECK(validate(R"([])") == "records: must not be empty");
    CHECK(validate(R"([{},{}])", 1) == "records: more than 1 records");
    CHECK(validate(R"([{},{},{},5])") == "records[3]: expected object");
    CHECK(validate(R"([{},{},{},{"value":5}])") == "records[3].value: expected string or null");
    CHECK(validate(R"([{"key":[]}])") == "records[0].key: expected string or null");
    CHECK(validate(R"([{"offset":1}])") == "records[0]: unknown field \"offset\"");
    CHECK(validate(R"([{"value":"a","value":"b"}])") == "scan: invalid JSON at byte 25: duplicate key");
    CHECK(validate(R"([{"key":"a","key64":"YQ=="}])") == "records[0]: both \"key\" and \"key64\" given");
    CHECK(validate(R"([{"value":"a","value64":"YQ=="}])") == "records[0]: both \"value\" and \"value64\" given");
    CHECK(validate(R"([{"value64":null}])") == "records[0].value64: expected base64 string");
    CHECK(validate(R"([{"value64":"YQ="}])") == "records[0].value64: invalid base64");
    CHECK(validate(R"([{"key64":"Y Q=="}])") == "records[0].key64: invalid base64");
    CHECK(validate(R"([{"headers":[]}])") == "records[0].headers: expected object");
    CHECK(validate(R"([{"headers":{"a":"1","b":2}}])") == "records[0].headers.b: expected string");
    CHECK(validate(R"([{"headers":{"a":null}}])") == "records[0].headers.a: expected string");
    CHECK(validate(R"([{"ts":-1}])") == "records[0].ts: expected non-negative integer");
    CHECK(validate(R"([{"ts":1.5}])") == "records[0].ts: expected non-negative integer");
    CHECK(validate(R"([{"ts":"1"}])") == "records[0].ts: expected non-negative integer");
    CHECK(validate(R"([{"ts":1e3}])") == "records[0].ts: expected non-negative integer");
    CHECK(validate(R"([{"ts":99999999999999999999}])") == "records[0].ts: expected non-negative integer");
  }

  TEST_CASE("base64 follows RFC 4648 test vectors") {
    // RFC 4648 section 10.
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (auto [plain, enc] : vectors) {
      CHECK(base64_encode(plain) == enc);
      CHECK(base64_decode(enc) == std::optional<std::string>(plain));
    }
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    CHECK(base64_decode(base64_encode(all)) == std::optional<std::string>(all));
    std::string out = "x";
    CHECK(base64_decode_append("eQ==", out));
    CHECK(out == "xy");
  }

  TEST_CASE("base64 decoding rejects bad characters, length and padding") {
    const char* bad[] = {"Zg=", "Zg", "Z", "Zm9v!A==", "Zm 9v", "Zm9v\n", "=Zg=", "Z===",
                         "Zg==Zg==", "Zm-v", "Zm_v", "Zh==", "Zm9=", "Zg=a"};
    for (const char* b : bad) {
      CAPTURE(b);
      CHECK_FALSE(base64_decode(b).has_value());
    }
  }
}
