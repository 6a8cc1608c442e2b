// JsonScan against JSONTestSuite-style accept/reject cases, exact spans,
// unescaping, integers, the UTF-8 helpers, and a throughput probe run on demand.
#include "proto/json_scan.h"

#include "proto/record.h"
#include "proto/wire.h"

#include <doctest/doctest.h>

#include <ctime>
#include <cstdio>
#include <cstring>
#include <string>

using namespace kreek;
using namespace kreek::proto;

namespace {

bool accepts(std::string_view text) {
  JsonScan s;
  return s.scan(text).is_ok();
}

std::string error_of(std::string_view text, const ScanLimits& limits = {}) {
  JsonScan s;
  Status st = s.scan(text, limits);
  return st.is_ok() ? "ok" : st.message();
}

}  // namespace

TEST_SUITE("proto") {
  TEST_CASE("scanner accepts every kind of valid JSON value") {
    const char* ok[] = {
        "{}", "[]", "0", "-0", "1", "-1", "123", "1.5", "-1.5e10", "1E+2", "1e-2", "0.0",
        "\"\"", "\"abc\"", "true", "false", "null", " \t\r\n{ } \n",
        R"({"a":1,"b":[1,2,{"c":null}],"d":"x"})", R"([[[[]]]])", R"(["\"\\\/\b\f\n\r\t"])",
        R"(["\u0041\u00e9\u20AC\ud83d\ude00"])", "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]",
        "[\"\x7f\"]", "123456789012345678901234567890", "1e400", R"({"a":1,"A":2})",
        "[\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\"]",  // U+FFFF and U+10FFFF are allowed
    };
    for (const char* t : ok) {
      CAPTURE(t);
      CHECK(accepts(t));
    }
  }

  TEST_CASE("scanner rejects malformed JSON with the byte offset of the problem") {
    struct Case {
      std::string_view text;
      const char* message;
    };
    const Case bad[] = {
        {"", "invalid JSON at byte 0: empty input"},
        {"   ", "invalid JSON at byte 3: empty input"},
        {"[1,]", "invalid JSON at byte 3: unexpected character"},
        {"{\"a\":1,}", "invalid JSON at byte 7: expected string key"},
        {"[1 2]", "invalid JSON at byte 3: expected ',' or ']'"},
        {"{\"a\" 1}", "invalid JSON at byte 5: expected ':'"},
        {"{\"a\":1 \"b\":2}", "invalid JSON at byte 7: expected ',' or '}'"},
        {"{1:2}", "invalid JSON at byte 1: expected string key"},
        {"\"abc", "invalid JSON at byte 0: unterminated string"},
        {"[\"abc", "invalid JSON at byte 1: unterminated string"},
        {"[1", "invalid JSON at byte 2: unexpected end of input"},
        {"{\"a\":", "invalid JSON at byte 5: unexpected end of input"},
        {"01", "invalid JSON at byte 0: invalid number (leading zero)"},
        {"[-01]", "invalid JSON at byte 1: invalid number (leading zero)"},
        {"1.", "invalid JSON at byte 2: invalid number"},
        {".5", "invalid JSON at byte 0: unexpected character"},
        {"-", "invalid JSON at byte 0: invalid number"},
        {"1e", "invalid JSON at byte 2: invalid number"},
        {"+1", "invalid JSON at byte 0: unexpected character"},
        {"0x10", "invalid JSON at byte 1: unexpected data after the value"},
        {"tru", "invalid JSON at byte 0: invalid literal"},
        {"nul", "invalid JSON at byte 0: invalid literal"},
        {"True", "invalid JSON at byte 0: unexpected character"},
        {"{} {}", "invalid JSON at byte 3: unexpected data after the value"},
        {"[\"a\tb\"]", "invalid JSON at byte 3: control character in string"},
        {"[\"\\x\"]", "invalid JSON at byte 2: invalid escape"},
        {"[\"\\u12\"]", "invalid JSON at byte 2: invalid \\u escape"},
        {"[\"\\u12G4\"]", "invalid JSON at byte 2: invalid \\u escape"},
        {"[\"\\ud800\"]", "invalid JSON at byte 2: lone surrogate in \\u escape"},
        {"[\"\\udc00\"]", "invalid JSON at byte 2: lone surrogate in \\u escape"},
        {"[\"\\ud800\\u0041\"]", "invalid JSON at byte 2: lone surrogate in \\u escape"},
        {"[\"\\ud800x\"]", "invalid JSON at byte 2: lone surrogate in \\u escape"},
        {"['a']", "invalid JSON at byte 1: unexpected character"},
        {std::string_view("[1]\x00", 4), "invalid JSON at byte 3: unexpected data after the value"},
    };
    for (const Case& c : bad) {
      CAPTURE(c.text);
      CHECK(error_of(c.text) == c.message);
    }
  }

  TEST_CASE("scanner rejects invalid UTF-8 inside strings") {
    const char* bad[] = {
        "\"\x80\"",                  // stray continuation byte
        "\"\xc0\xaf\"",              // overlong '/'
        "\"\xc1\xbf\"",              // overlong
        "\"\xe0\x80\xaf\"",          // overlong 3-byte
        "\"\xf0\x80\x80\xaf\"",      // overlong 4-byte
        "\"\xed\xa0\x80\"",          // U+D800 surrogate encoded directly
        "\"\xed\xbf\xbf\"",          // U+DFFF
        "\"\xf4\x90\x80\x80\"",      // U+110000
        "\"\xf5\x80\x80\x80\"",      // beyond the range
        "\"\xff\"",                  // never valid
        "\"\xc3\"",                  // truncated 2-byte
        "\"\xe2\x82\"",              // truncated 3-byte
        "\"\xc3(\"",                 // bad continuation
        "\"0123456789abcdef\xc3\x28xxxxxxxxxxxxxxxx\"",  // past the 16-byte fast path
    };
    for (const char* t : bad) {
      CAPTURE(t);
      CHECK(error_of(t).find("invalid UTF-8") != std::string::npos);
      CHECK_FALSE(is_valid_utf8(std::string_view(t + 1, std::strlen(t) - 2)));
    }
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("plain ascii that is long enough to use the wide path"));
    CHECK(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf"));
  }

  TEST_CASE("scanner finds specials at every position of the wide fast path") {
    // A quote, backslash, control or non-ASCII byte at each position of a long
    // string must be noticed, whichever 16-byte block it falls in.
    for (size_t at = 0; at < 40; ++at) {
      std::string body(40, 'a');
      std::string text = "\"" + body + "\"";
      CAPTURE(at);
      text[1 + at] = '\x01';
      CHECK(error_of(text) == "invalid JSON at byte " + std::to_string(1 + at) + ": control character in string");
      text[1 + at] = '\x80';
      CHECK(error_of(text) == "invalid JSON at byte " + std::to_string(1 + at) + ": invalid UTF-8");
      text[1 + at] = '"';
      CHECK(error_of(text) == "invalid JSON at byte " + std::to_string(2 + at) + ": unexpected data after the value");
    }
  }

  TEST_CASE("scanner enforces the depth and token limits") {
    std::string deep(64, '[');
    deep += std::string(64, ']');
    CHECK(accepts(deep));
    std::string deeper(65, '[');
    deeper += std::string(65, ']');
    CHECK(error_of(deeper) == "invalid JSON at byte 64: nesting too deep");
    std::string huge(100000, '[');  // no recursion: deep input is just an error
    CHECK(error_of(huge) == "invalid JSON at byte 64: nesting too deep");
    ScanLimits few;
    few.max_tokens = 3;
    CHECK(error_of("[1,2]", few) == "ok");
    CHECK(error_of("[1,2,3]", few) == "invalid JSON at byte 5: too many tokens");
  }

  TEST_CASE("token spans, sizes and next links are exact") {
    JsonScan s;
    const std::string text = R"( {"a":[1,"x\n",{}],"b":-2.5e3,"c":true} )";
    REQUIRE(s.scan(text).is_ok());
    const auto& t = s.tokens();
    REQUIRE(t.size() == 10);
    CHECK(t[0].type == TokType::kObject);
    CHECK(s.raw(0) == R"({"a":[1,"x\n",{}],"b":-2.5e3,"c":true})");
    CHECK(t[0].size == 3);
    CHECK(t[0].next == 10);
    CHECK(s.raw(1) == "\"a\"");
    CHECK(t[2].type == TokType::kArray);
    CHECK(t[2].size == 3);
    CHECK(s.raw(2) == R"([1,"x\n",{}])");
    CHECK(t[2].next == 6);
    CHECK(s.raw(3) == "1");
    CHECK(s.raw(4) == R"("x\n")");
    CHECK(t[4].has_escapes);
    CHECK_FALSE(t[1].has_escapes);
    CHECK(t[5].type == TokType::kObject);
    CHECK(t[5].size == 0);
    CHECK(s.raw(5) == "{}");
    CHECK(s.raw(7) == "-2.5e3");
    CHECK(t[7].type == TokType::kNumber);
    CHECK(t[9].type == TokType::kTrue);
    CHECK(s.find(0, "a") == 2);
    CHECK(s.find(0, "b") == 7);
    CHECK(s.find(0, "c") == 9);
    CHECK(s.find(0, "d") == -1);
    CHECK(s.find(2, "a") == -1);  // not an object
  }

  TEST_CASE("find compares keys after unescaping") {
    JsonScan s;
    REQUIRE(s.scan(R"({"k\u0065y":1,"x":{"key":3}})").is_ok());
    CHECK(s.raw(static_cast<uint32_t>(s.find(0, "key"))) == "1");
    const auto x = static_cast<uint32_t>(s.find(0, "x"));
    CHECK(s.raw(static_cast<uint32_t>(s.find(x, "key"))) == "3");
  }

  TEST_CASE("an object with the same key twice is refused, escapes and all") {
    JsonScan s;
    for (const char* bad : {R"({"a":1,"a":2})", R"({"k\u0065y":1,"key":2})", R"({"x":{"b":1,"c":2,"b":3}})",
                            R"([{"a":1},{"a":1,"a":1}])"}) {
      CAPTURE(bad);
      Status st = s.scan(bad);
      CHECK(st.code() == Code::kInvalidRequest);
      CHECK(st.message().find("duplicate key") != std::string::npos);
    }
    SUBCASE("many keys: found by sorting, and where the repeat is") {
      std::string big = "{";
      for (int i = 0; i < 1000; ++i) big += "\"k" + std::to_string(i) + "\":0,";
      std::string ok = big + "\"end\":0}";
      CHECK(s.scan(ok).is_ok());
      std::string dup = big + "\"k500\":1}";
      Status st = s.scan(dup);
      CHECK(st.message() == "invalid JSON at byte " + std::to_string(dup.rfind("\"k500\"")) + ": duplicate key");
    }
    CHECK(s.scan(R"({"a":{"a":1},"b":{"a":2}})").is_ok());  // the same key in different objects is fine
  }

  TEST_CASE("strings unescape to UTF-8 including surrogate pairs") {
    JsonScan s;
    REQUIRE(s.scan(R"(["plain","a\"b\\c\/d\b\f\n\r\t","\u0041\u00e9\u20ac\ud83d\ude00\u0000"])").is_ok());
    CHECK(s.get_string(1) == "plain");
    CHECK(s.get_string(2) == "a\"b\\c/d\b\f\n\r\t");
    CHECK(s.get_string(3) == std::string("A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0", 11));
  }

  TEST_CASE("get_int accepts exactly the integers in int64 range") {
    JsonScan s;
    REQUIRE(s.scan("[0,-0,42,-7,9223372036854775807,-9223372036854775808,9223372036854775808,"
                   "-9223372036854775809,1.0,1e2,\"5\",99999999999999999999]")
                .is_ok());
    int64_t v = 1;
    CHECK(s.get_int(1, v));
    CHECK(v == 0);
    CHECK(s.get_int(2, v));
    CHECK(v == 0);
    CHECK(s.get_int(3, v));
    CHECK(v == 42);
    CHECK(s.get_int(4, v));
    CHECK(v == -7);
    CHECK(s.get_int(5, v));
    CHECK(v == INT64_MAX);
    CHECK(s.get_int(6, v));
    CHECK(v == INT64_MIN);
    CHECK_FALSE(s.get_int(7, v));
    CHECK_FALSE(s.get_int(8, v));
    CHECK_FALSE(s.get_int(9, v));
    CHECK_FALSE(s.get_int(10, v));
    CHECK_FALSE(s.get_int(11, v));
    CHECK_FALSE(s.get_int(12, v));
  }

  TEST_CASE("the token vector is reused across scans") {
    JsonScan s;
    REQUIRE(s.scan("[1,2,3,4,5,6,7,8]").is_ok());
    const Token* before = s.tokens().data();
    REQUIRE(s.scan("[1,2]").is_ok());
    CHECK(s.tokens().data() == before);
    CHECK(s.tokens().size() == 3);
  }

  TEST_CASE("append_json_string escapes quotes, backslashes and control characters") {
    std::string out;
    append_json_string(out, std::string("a\"b\\c\n\t\x01\x1f\x7f/\xc3\xa9\0", 14));
    CHECK(out == std::string("\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\x7f/\xc3\xa9\\u0000\""));
    // Round trip through the scanner.
    JsonScan s;
    REQUIRE(s.scan(out).is_ok());
    CHECK(s.get_string(0) == std::string("a\"b\\c\n\t\x01\x1f\x7f/\xc3\xa9\0", 14));
    std::string again;
    append_json_string(again, s.get_string(0));
    CHECK(again == out);
  }

  TEST_CASE("append_json_string replaces invalid UTF-8 so its output stays valid JSON") {
    std::string out;
    append_json_string(out, "a\xff" "b\xed\xa0\x80");
    CHECK(out == "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    CHECK(accepts(out));
  }

  TEST_CASE("scanner throughput" * doctest::skip()) {
    // Run with: kreek_unit -tc="scanner throughput" --no-skip
    std::string value;
    for (int i = 0; i < 100; ++i) value.push_back(static_cast<char>('a' + i % 26));
    std::string line = R"({"op":"produce","topic":"t","records":[)";
    for (int i = 0; i < 10000; ++i) {
      if (i) line += ',';
      line += R"({"value":")" + value + "\"}";
    }
    line += "]}";
    JsonScan s;
    REQUIRE(s.scan(line).is_ok());
    const int rounds = 300;
    // CPU time, not wall time: the figure should not depend on other load.
    const std::clock_t t0 = std::clock();
    for (int i = 0; i < rounds; ++i) REQUIRE(s.scan(line).is_ok());
    const double secs = static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC;
    const double mbps = static_cast<double>(line.size()) * rounds / secs / 1e6;
    std::printf("scanner throughput: %.0f MB/s (%zu-byte produce line, 10000 records of 100 bytes)\n",
                mbps, line.size());
    CHECK(mbps > 0);
    // What the broker does per produce: scan, then check the records' shape.
    const std::clock_t t1 = std::clock();
    for (int i = 0; i < rounds; ++i) {
      REQUIRE(s.scan(line).is_ok());
      REQUIRE(validate_records(s, static_cast<uint32_t>(s.find(0, "records")), kMaxRecordsPerBatch).is_ok());
    }
    const double secs2 = static_cast<double>(std::clock() - t1) / CLOCKS_PER_SEC;
    std::printf("scan + validate_records: %.0f MB/s\n", static_cast<double>(line.size()) * rounds / secs2 / 1e6);
  }
}

#include <nlohmann/json.hpp>
#include <random>

TEST_SUITE("proto") {
  TEST_CASE("scanner agrees with nlohmann on randomly mutated documents") {
    // Differential check: nlohmann's parser is also strict RFC 8259 (UTF-8,
    // escapes, numbers), so both must accept and reject the same texts.
    const std::string seeds[] = {
        R"({"op":"produce","topic":"t","records":[{"key":"k","value":"v\u00e9\ud83d\ude00","headers":{"h":"x"},"ts":1}]})",
        R"([1,-2.5e+3,0,true,false,null,"a\"b\\c",{"x":[]},"caf)" "\xc3\xa9" R"( \u20ac"])",
        R"({"a":{"b":{"c":[1,2,3,{"d":"0123456789abcdef0123456789"}]}}})",
    };
    const char alphabet[] = "{}[]\",:\\u0123456789eE+-.tfnrl aAdD\x7f\x80\xbf\xc3\xe2\xed\xf0\xf4\xff\t\n\x01";
    std::mt19937 rng(12345);
    int disagreements = 0;
    for (int round = 0; round < 20000; ++round) {
      std::string text = seeds[round % 3];
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        const size_t at = rng() % (text.size() + 1);
        const char c = alphabet[rng() % (sizeof(alphabet) - 1)];
        switch (rng() % 3) {
          case 0: if (at < text.size()) text[at] = c; break;
          case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c); break;
          default: if (at < text.size()) text.erase(at, 1);
        }
      }
      JsonScan s;
      const bool ours = s.scan(text).is_ok();
      bool theirs = nlohmann::json::accept(text);
      if (ours && !theirs) {
        // nlohmann refuses numbers beyond double range (1e400); the grammar allows them.
        try {
          auto parsed = nlohmann::json::parse(text);  // (void) does not silence warn_unused_result
          (void)parsed;
        } catch (const nlohmann::json::out_of_range&) {
          theirs = true;
        } catch (const nlohmann::json::exception&) {
        }
      }
      if (ours != theirs) {
        ++disagreements;
        if (disagreements < 5) MESSAGE("disagree (ours=" << ours << "): " << text);
      }
    }
    CHECK(disagreements == 0);
  }
}
