// Protocol lines: exact response bytes, the request envelope's rules, produce
// request framing, and the client-side readers for responses and fetch headers.
#include "proto/message.h"

#include <doctest/doctest.h>

#include "base/crc32c.h"
#include "proto/record.h"

using namespace kreek;
using namespace kreek::proto;

namespace {

// Scans `line` and returns "op id" or the envelope error.
std::string envelope(std::string_view line, std::string* id_on_error = nullptr) {
  static JsonScan scan;
  RequestEnvelope env;
  Status s = scan_request(line, scan, env);
  if (id_on_error) *id_on_error = std::string(env.id_raw);
  if (!s.is_ok()) return std::string(code_name(s.code())) + ": " + s.message();
  return env.op + " " + std::string(env.id_raw);
}

}  // namespace

TEST_SUITE("proto") {
  TEST_CASE("error lines carry code, message and extra fields in order") {
    CHECK(error_line("7", Status(Code::kUnknownTopic, "topic \"x\" does not exist")) ==
          "{\"id\":7,\"ok\":false,\"error\":{\"code\":\"UNKNOWN_TOPIC\",\"message\":\"topic \\\"x\\\" does not exist\"}}\n");
    Json extra = {{"log_start", 0}, {"log_end", 42}, {"code", "ignored"}};
    CHECK(error_line("\"abc\"", Status(Code::kOffsetOutOfRange, "offset 50 is out of range"), &extra) ==
          R"({"id":"abc","ok":false,"error":{"code":"OFFSET_OUT_OF_RANGE","message":"offset 50 is out of range","log_start":0,"log_end":42}})"
          "\n");
    CHECK(error_line("", invalid_request("bad")) ==
          "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"INVALID_REQUEST\",\"message\":\"bad\"}}\n");
  }

  TEST_CASE("error messages with newlines or bad bytes still make one valid line") {
    const std::string line = error_line("1", invalid_request("two\nlines \xff"));
    CHECK(line.find('\n') == line.size() - 1);
    JsonScan s;
    CHECK(s.scan(line).is_ok());
  }

  TEST_CASE("ok lines put id and ok first and keep the fields' order") {
    Json fields = {{"partition", 0}, {"base", 100}, {"last", 102}, {"ts", 1700000000000}};
    CHECK(ok_line("7", fields) == R"({"id":7,"ok":true,"partition":0,"base":100,"last":102,"ts":1700000000000})"
                                  "\n");
    CHECK(ok_line("null", Json::object()) == "{\"id\":null,\"ok\":true}\n");
    CHECK(ok_line("1", Json{{"topics", Json::array({"a", "b"})}}) == "{\"id\":1,\"ok\":true,\"topics\":[\"a\",\"b\"]}\n");
    CHECK(ok_line_raw("3", "\"partition\":1") == "{\"id\":3,\"ok\":true,\"partition\":1}\n");
    CHECK(ok_line_raw("3", "") == "{\"id\":3,\"ok\":true}\n");
  }

  TEST_CASE("the request envelope yields the op and the id's exact text") {
    CHECK(envelope(R"({"op":"hello"})") == "hello null");
    CHECK(envelope("{\"op\":\"fetch\",\"id\":7}\r\n") == "fetch 7");
    CHECK(envelope(R"({"id":"a\"b","op":"metadata"})") == R"(metadata "a\"b")");
    CHECK(envelope(R"({"id":-15,"op":"h\u0065llo"})") == "hello -15");
    CHECK(envelope(R"({"id":null,"op":"x"})") == "x null");
    CHECK(envelope(R"({"id":true,"op":"x"})") == "x true");
  }

  TEST_CASE("a bad request envelope is INVALID_REQUEST and still echoes a valid id") {
    std::string id;
    CHECK(envelope("nope") == "INVALID_REQUEST: invalid JSON at byte 0: invalid literal");
    CHECK(envelope("[1]") == "INVALID_REQUEST: request must be a JSON object");
    CHECK(envelope(R"({"id":5})", &id) == "INVALID_REQUEST: missing \"op\"");
    CHECK(id == "5");
    CHECK(envelope(R"({"op":1,"id":"q"})", &id) == "INVALID_REQUEST: \"op\" must be a string");
    CHECK(id == "\"q\"");
    CHECK(envelope(R"({"op":"x","id":[1]})", &id) == "INVALID_REQUEST: \"id\" must be a string, an integer in int64 range, a boolean or null");
    CHECK(id == "null");
    CHECK(envelope(R"({"op":"x","id":{}})") == "INVALID_REQUEST: \"id\" must be a string, an integer in int64 range, a boolean or null");
    // Numbers the tools could not hold are not echoed back.
    for (const char* bad : {R"({"op":"x","id":1e999})", R"({"op":"x","id":1.50})", R"({"op":"x","id":9223372036854775808})"}) {
      CAPTURE(bad);
      CHECK(envelope(bad, &id) == "INVALID_REQUEST: \"id\" must be a string, an integer in int64 range, a boolean or null");
      CHECK(id == "null");
    }
  }

  TEST_CASE("request lines start with op and id") {
    CHECK(request_line("metadata", 3, Json{{"topics", Json::array({"a"})}, {"auto_create", false}}) ==
          "{\"op\":\"metadata\",\"id\":3,\"topics\":[\"a\"],\"auto_create\":false}\n");
    CHECK(request_line("hello", 1, Json()) == "{\"op\":\"hello\",\"id\":1}\n");
  }

  TEST_CASE("produce requests carry the records bytes verbatim with their CRC-32C") {
    Record r;
    r.value = "v";
    const std::string records = encode_records({r});
    std::string line;
    append_produce_request(line, 9, "t", PartitionId(2), 1, records);
    CHECK(line == "{\"op\":\"produce\",\"id\":9,\"topic\":\"t\",\"partition\":2,\"acks\":1,\"crc\":" +
                      std::to_string(crc32c::value(records)) + ",\"records\":[{\"value\":\"v\"}]}\n");
    line.clear();
    append_produce_request(line, 10, "t", std::nullopt, -1, records);
    CHECK(line.find("\"partition\"") == std::string::npos);
    CHECK(line.find("\"acks\":-1,") != std::string::npos);
    // The broker's view: the records token's raw bytes are exactly what was checksummed.
    JsonScan s;
    REQUIRE(s.scan(line).is_ok());
    CHECK(s.raw(static_cast<uint32_t>(s.find(0, "records"))) == records);
  }

  TEST_CASE("responses parse back to a Status with the wire code") {
    auto ok = parse_response(R"({"id":1,"ok":true,"x":1})");
    REQUIRE(ok.is_ok());
    CHECK(response_status(*ok).is_ok());
    auto err = parse_response(error_line("2", Status(Code::kNotLeader, "t/0 is led by node 2")));
    REQUIRE(err.is_ok());
    Status s = response_status(*err);
    CHECK(s.code() == Code::kNotLeader);
    CHECK(s.message() == "t/0 is led by node 2");
    CHECK(parse_response("{").status().code() == Code::kProtocol);
    CHECK(parse_response("[]").status().code() == Code::kProtocol);
    CHECK(parse_response(R"({"id":1})").status().code() == Code::kProtocol);
  }

  TEST_CASE("unknown or malformed error objects map to INTERNAL or PROTOCOL_ERROR") {
    Status s = status_from_error_json(Json{{"code", "SHINY_NEW_CODE"}, {"message", "m"}});
    CHECK(s.code() == Code::kInternal);
    CHECK(s.message() == "m (broker error code SHINY_NEW_CODE)");
    CHECK(status_from_error_json(Json{{"code", "OK"}}).code() == Code::kInternal);
    CHECK(status_from_error_json(Json{{"code", "INTERNAL"}, {"message", "x"}}).message() == "x");
    CHECK(status_from_error_json(Json("x")).code() == Code::kProtocol);
    CHECK(status_from_error_json(Json{{"message", "no code"}}).code() == Code::kProtocol);
  }

  TEST_CASE("fetch headers parse into parts with their errors") {
    auto r = parse_response(
        R"({"id":4,"ok":true,"parts":[{"topic":"t","partition":0,"hw":42,"log_start":0,"bytes":120},)"
        R"({"topic":"t","partition":1,"error":{"code":"OFFSET_OUT_OF_RANGE","message":"m","log_start":5,"log_end":9},"bytes":0},)"
        R"({"topic":"u","partition":2,"hw":0,"log_start":0,"bytes":0}]})");
    REQUIRE(r.is_ok());
    auto parts = parse_fetch_header(*r);
    REQUIRE(parts.is_ok());
    REQUIRE(parts->size() == 3);
    const FetchPart& p0 = (*parts)[0];
    CHECK(p0.topic == "t");
    CHECK(p0.partition == 0);
    CHECK(p0.hw == 42);
    CHECK(p0.log_start == 0);
    CHECK(p0.bytes == 120);
    CHECK(p0.error.is_ok());
    CHECK(p0.error_json.is_null());
    const FetchPart& p1 = (*parts)[1];
    CHECK(p1.error.code() == Code::kOffsetOutOfRange);
    CHECK(p1.error_json["log_end"] == 9);
    CHECK(p1.hw == -1);
    CHECK(p1.bytes == 0);
    CHECK((*parts)[2].topic == "u");
  }

  TEST_CASE("a failed or malformed fetch header is an error") {
    auto failed = parse_fetch_header(*parse_response(error_line("1", Status(Code::kUnknownTopic, "no"))));
    CHECK(failed.status().code() == Code::kUnknownTopic);
    const char* bad[] = {
        R"({"ok":true})",
        R"({"ok":true,"parts":[1]})",
        R"({"ok":true,"parts":[{"partition":0,"hw":1,"log_start":0,"bytes":0}]})",
        R"({"ok":true,"parts":[{"topic":"t","partition":-1,"hw":1,"log_start":0,"bytes":0}]})",
        R"({"ok":true,"parts":[{"topic":"t","partition":0,"hw":1,"log_start":0}]})",
        R"({"ok":true,"parts":[{"topic":"t","partition":0,"hw":1,"log_start":0,"bytes":-5}]})",
        R"({"ok":true,"parts":[{"topic":"t","partition":0,"log_start":0,"bytes":0}]})",
        R"({"ok":true,"parts":[{"topic":"t","partition":0,"hw":1,"log_start":0,"bytes":1.5}]})",
        R"({"ok":true,"parts":[{"topic":"t","partition":0,"error":"x","bytes":0}]})",
    };
    for (const char* b : bad) {
      CAPTURE(b);
      auto j = parse_response(b);
      REQUIRE(j.is_ok());
      CHECK(parse_fetch_header(*j).status().code() == Code::kProtocol);
    }
  }
}
