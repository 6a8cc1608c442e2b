// Request routing and validation, driven line by line without sockets: the
// envelope, every admin op, produce and fetch against a real LogManager.
#include "broker/request_router.h"

#include <doctest/doctest.h>

#include "broker/broker_test_util.h"
#include "base/crc32c.h"
#include "proto/message.h"
#include "proto/record.h"

using namespace kreek;
using namespace kreek::broker;
using kreek::broker::testing::error_code;
using kreek::broker::testing::Harness;
using nlohmann::json;

TEST_SUITE("broker") {
  TEST_CASE("hello names the protocol and echoes the id verbatim as the first key") {
    Harness h;
    auto r = h.call(R"({"op":"hello","id":"abc"})");
    REQUIRE(r);
    CHECK(r->rfind(R"({"id":"abc","ok":true,)", 0) == 0);
    CHECK(r->back() == '\n');
    json j = json::parse(*r);
    CHECK(j["protocol"] == 1);
    CHECK(j["server"] == "kreek 0.1.0");
    CHECK(j["node"] == 0);
    CHECK(h.call(R"({"id":1.50,"op":"hello"})")->rfind(R"({"id":null,"ok":false,)", 0) == 0);
    CHECK(h.call(R"({"id":1e999,"op":"hello"})")->rfind(R"({"id":null,"ok":false,)", 0) == 0);
    CHECK(h.call(R"({"op":"hello"})")->rfind(R"({"id":null,)", 0) == 0);
  }

  TEST_CASE("bad input gets INVALID_REQUEST and the next line is served") {
    Harness h;
    SUBCASE("not JSON") {
      json j = h.json("nope");
      CHECK(error_code(j) == "INVALID_REQUEST");
      CHECK(j["id"].is_null());
    }
    SUBCASE("invalid UTF-8") { CHECK(error_code(h.json("{\"op\":\"hello\",\"x\":\"\xff\"}")) == "INVALID_REQUEST"); }
    SUBCASE("not an object") { CHECK(error_code(h.json("[1,2]")) == "INVALID_REQUEST"); }
    SUBCASE("missing op") { CHECK(error_code(h.json(R"({"id":3})")) == "INVALID_REQUEST"); }
    SUBCASE("unknown op") {
      json j = h.json(R"({"op":"nope","id":4})");
      CHECK(error_code(j) == "INVALID_REQUEST");
      CHECK(j["error"]["message"] == "unknown op \"nope\"");
      CHECK(j["id"] == 4);
    }
    SUBCASE("wrong types") {
      CHECK(error_code(h.json(R"({"op":"create_topic","topic":7})")) == "INVALID_REQUEST");
      CHECK(error_code(h.json(R"({"op":"create_topic","topic":"t","partitions":"3"})")) ==
            "INVALID_REQUEST");
      CHECK(error_code(h.json(R"({"op":"create_topic","topic":"t","partitions":0})")) ==
            "INVALID_REQUEST");
      CHECK(error_code(h.json(R"({"op":"create_topic","topic":"../etc"})")) == "INVALID_REQUEST");
    }
    CHECK(h.json(R"({"op":"hello"})")["ok"] == true);
  }

  TEST_CASE("an oversize line is MESSAGE_TOO_LARGE naming the limit") {
    Harness h;
    json j = json::parse(h.oversize(9 << 20));
    CHECK(error_code(j) == "MESSAGE_TOO_LARGE");
    CHECK(j["error"]["message"] == "request line exceeds 8388608 bytes");
    CHECK(j["id"].is_null());
  }

  TEST_CASE("topics are created, described, altered and deleted") {
    Harness h;
    json c = h.json(R"({"op":"create_topic","id":1,"topic":"t","partitions":3,"config":{"retention.ms":60000}})");
    CHECK(c["ok"] == true);
    CHECK(c["partitions"] == 3);
    CHECK(error_code(h.json(R"({"op":"create_topic","topic":"t"})")) == "TOPIC_EXISTS");
    CHECK(error_code(h.json(R"({"op":"create_topic","topic":"u","config":{"nope.key":"1"}})")) ==
          "INVALID_REQUEST");

    json d = h.json(R"({"op":"describe_topic","topic":"t"})");
    CHECK(d["config"]["retention.ms"] == "60000");
    CHECK(d["overrides"]["retention.ms"] == "60000");
    REQUIRE(d["partitions"].size() == 3);
    CHECK(d["partitions"][2]["partition"] == 2);
    CHECK(d["partitions"][2]["leader"] == 0);
    CHECK(d["partitions"][2]["isr"] == json::array({0}));
    CHECK(d["partitions"][0]["log_end"] == 0);
    CHECK(d["partitions"][0]["segments"] == 1);

    json a = h.json(R"({"op":"alter_topic","topic":"t","config":{"retention.ms":null,"segment.ms":"1000"}})");
    CHECK(a["ok"] == true);
    CHECK(a["config"]["segment.ms"] == "1000");
    CHECK_FALSE(a["overrides"].contains("retention.ms"));

    CHECK(h.json(R"({"op":"delete_topic","topic":"t"})") == json::parse(R"({"id":null,"ok":true})"));
    CHECK(error_code(h.json(R"({"op":"delete_topic","topic":"t"})")) == "UNKNOWN_TOPIC");
    CHECK(error_code(h.json(R"({"op":"describe_topic","topic":"t"})")) == "UNKNOWN_TOPIC");
  }

  TEST_CASE("metadata lists brokers and topics and reports missing ones per topic") {
    Harness h;
    (void)h.json(R"({"op":"create_topic","topic":"a","partitions":2})");
    json all = h.json(R"({"op":"metadata"})");
    REQUIRE(all["brokers"].size() == 1);
    CHECK(all["brokers"][0]["node"] == 0);
    REQUIRE(all["topics"].size() == 1);
    CHECK(all["topics"][0]["partitions"].size() == 2);
    CHECK(all["topics"][0]["partitions"][1]["epoch"] == 0);

    json named = h.json(R"({"op":"metadata","topics":["a","b"]})");
    CHECK(named["ok"] == true);
    CHECK(error_code(named["topics"][1]) == "UNKNOWN_TOPIC");
    json created = h.json(R"({"op":"metadata","topics":["b"],"auto_create":true})");
    CHECK(created["topics"][0]["partitions"].size() == 1);
    CHECK(h.logs().topic("b") != nullptr);
    CHECK(error_code(h.json(R"({"op":"metadata","topics":"a"})")) == "INVALID_REQUEST");
  }

  TEST_CASE("produce appends the records and acknowledges their offsets") {
    Harness h;
    std::string recs = R"([{"key":"k","value":"v1"},{"key":"k","value":"v2"}])";
    std::string line = R"({"op":"produce","id":9,"topic":"t","partition":0,"crc":)" +
                       std::to_string(crc32c::value(recs)) + R"(,"records":)" + recs + "}";
    json j = h.json(line);
    CHECK(j["ok"] == true);
    CHECK(j["id"] == 9);
    CHECK(j["partition"] == 0);
    CHECK(j["base"] == 0);
    CHECK(j["last"] == 1);
    CHECK(j["ts"].get<int64_t>() > 0);
    json again = h.json(R"({"op":"produce","topic":"t","records":[{"value":"x"}]})");
    CHECK(again["base"] == 2);
    CHECK(again["last"] == 2);

    SUBCASE("the stored batch holds the request's records bytes verbatim") {
      auto r = h.call(R"({"op":"fetch","topic":"t","partition":0,"offset":0})");
      REQUIRE(r);
      CHECK(r->find(recs) != std::string::npos);
    }
  }

  TEST_CASE("produce rejects a wrong crc, bad records and oversize batches") {
    Harness h;
    CHECK(error_code(h.json(R"({"op":"produce","topic":"t","crc":1,"records":[{"value":"v"}]})")) ==
          "CORRUPT_RECORD");
    CHECK(error_code(h.json(R"({"op":"produce","topic":"t","records":[]})")) == "INVALID_REQUEST");
    CHECK(error_code(h.json(R"({"op":"produce","topic":"t"})")) == "INVALID_REQUEST");
    CHECK(error_code(h.json(R"({"op":"produce","topic":"t","records":[{"nope":1}]})")) ==
          "INVALID_REQUEST");
    CHECK(error_code(h.json(R"({"op":"produce","topic":"t","acks":2,"records":[{"value":"v"}]})")) ==
          "INVALID_REQUEST");
    CHECK(error_code(h.json(R"({"op":"produce","topic":"t","partition":5,"records":[{"value":"v"}]})")) ==
          "UNKNOWN_PARTITION");
    (void)h.json(R"({"op":"create_topic","topic":"small","config":{"max.message.bytes":"20"}})");
    CHECK(error_code(h.json(R"({"op":"produce","topic":"small","records":[{"value":"0123456789abcdef"}]})")) ==
          "MESSAGE_TOO_LARGE");
  }

  TEST_CASE("acks=0 produces no response line, even for errors") {
    Harness h;
    CHECK_FALSE(h.call(R"({"op":"produce","topic":"t","acks":0,"records":[{"value":"v"}]})"));
    CHECK_FALSE(h.call(R"({"op":"produce","topic":"t","acks":0,"crc":1,"records":[{"value":"v"}]})"));
    CHECK(h.logs().log("t", PartitionId(0))->log_end() == Offset(1));
    json j = h.json(R"({"op":"produce","topic":"t","acks":"all","records":[{"value":"v"}]})");
    CHECK(j["base"] == 1);
    CHECK(h.json(R"({"op":"produce","topic":"t","acks":-1,"records":[{"value":"v"}]})")["base"] == 2);
  }

  TEST_CASE("a missing topic is auto-created unless the broker forbids it") {
    {
      Harness h;
      CHECK(h.json(R"({"op":"produce","topic":"new","records":[{"value":"v"}]})")["ok"] == true);
      CHECK(h.logs().topic("new") != nullptr);
    }
    BrokerConfig c;
    c.auto_create = false;
    Harness h(c);
    CHECK(error_code(h.json(R"({"op":"produce","topic":"new","records":[{"value":"v"}]})")) ==
          "UNKNOWN_TOPIC");
    json m = h.json(R"({"op":"metadata","topics":["new"],"auto_create":true})");
    CHECK(error_code(m["topics"][0]) == "UNKNOWN_TOPIC");
  }

  TEST_CASE("flush.messages=1 acknowledges only after the fsync that covers the append") {
    Harness h;
    (void)h.json(R"({"op":"create_topic","topic":"sync","config":{"flush.messages":1}})");
    json j = h.json(R"({"op":"produce","topic":"sync","records":[{"value":"v"},{"value":"w"}]})");
    CHECK(j["ok"] == true);
    storage::PartitionLog* log = h.logs().log("sync", PartitionId(0));
    CHECK(log->recovery_point() == Offset(2));
    CHECK(log->unflushed_messages() == 0);
  }

  TEST_CASE("fetch returns a header line then whole batch lines") {
    Harness h;
    (void)h.json(R"({"op":"produce","topic":"t","records":[{"value":"a"},{"value":"b"}]})");
    (void)h.json(R"({"op":"produce","topic":"t","records":[{"value":"c"}]})");
    auto r = h.call(R"({"op":"fetch","id":"f","topic":"t","partition":0,"offset":2})");
    REQUIRE(r);
    size_t nl = r->find('\n');
    json head = json::parse(r->substr(0, nl));
    CHECK(head["id"] == "f");
    REQUIRE(head["parts"].size() == 1);
    json part = head["parts"][0];
    CHECK(part["hw"] == 3);
    CHECK(part["log_start"] == 0);
    std::string body = r->substr(nl + 1);
    CHECK(part["bytes"] == body.size());
    CHECK(body.rfind(R"({"v":1,"base":2,"n":1,)", 0) == 0);
    CHECK(body.back() == '\n');

    SUBCASE("offset at the log end is empty, past it is out of range") {
      json end = h.json(R"({"op":"fetch","topic":"t","partition":0,"offset":3})");
      CHECK(end["parts"][0]["bytes"] == 0);
      CHECK_FALSE(end["parts"][0].contains("error"));
      json past = h.json(R"({"op":"fetch","topic":"t","partition":0,"offset":4})");
      CHECK(error_code(past["parts"][0]) == "OFFSET_OUT_OF_RANGE");
      CHECK(past["parts"][0]["error"]["log_end"] == 3);
      CHECK(past["parts"][0]["error"]["log_start"] == 0);
      CHECK(past["parts"][0]["bytes"] == 0);
    }
    SUBCASE("negative offsets and bad fields are INVALID_REQUEST") {
      json neg = h.json(R"({"op":"fetch","topic":"t","partition":0,"offset":-1})");
      CHECK(error_code(neg) == "INVALID_REQUEST");
      CHECK(neg["error"]["message"] == "\"offset\" must be a non-negative integer");
      CHECK(error_code(h.json(R"({"op":"fetch","parts":[]})")) == "INVALID_REQUEST");
      CHECK(error_code(h.json(R"({"op":"fetch","topic":"t","partition":0,"offset":0,"max_wait_ms":"x"})")) ==
            "INVALID_REQUEST");
    }
    SUBCASE("the multi form reports unknown topics and partitions per part") {
      auto m = h.call(R"({"op":"fetch","parts":[{"topic":"t","partition":0,"offset":0},{"topic":"zz","partition":0,"offset":0},{"topic":"t","partition":7,"offset":0}]})");
      REQUIRE(m);
      json mh = json::parse(m->substr(0, m->find('\n')));
      REQUIRE(mh["parts"].size() == 3);
      CHECK(mh["parts"][0]["bytes"].get<size_t>() + m->find('\n') + 1 == m->size());
      CHECK(error_code(mh["parts"][1]) == "UNKNOWN_TOPIC");
      CHECK(error_code(mh["parts"][2]) == "UNKNOWN_PARTITION");
    }
  }

  TEST_CASE("list_offsets finds earliest, latest and by time") {
    Harness h;
    (void)h.json(R"({"op":"produce","topic":"t","records":[{"value":"a"},{"value":"b"}]})");
    json e = h.json(R"({"op":"list_offsets","topic":"t","at":"earliest"})");
    CHECK(e["partitions"][0]["offset"] == 0);
    json l = h.json(R"({"op":"list_offsets","topic":"t","partitions":[0],"at":"latest"})");
    CHECK(l["partitions"][0]["offset"] == 2);
    CHECK(l["partitions"][0]["log_end"] == 2);
    json past = h.json(R"({"op":"list_offsets","topic":"t","at":0})");
    CHECK(past["partitions"][0]["offset"] == 0);
    json future = h.json(R"({"op":"list_offsets","topic":"t","at":99999999999999})");
    CHECK(future["partitions"][0]["offset"] == 2);
    CHECK(error_code(h.json(R"({"op":"list_offsets","topic":"t","at":"soon"})")) == "INVALID_REQUEST");
    CHECK(error_code(h.json(R"({"op":"list_offsets","topic":"t"})")) == "INVALID_REQUEST");
    CHECK(error_code(h.json(R"({"op":"list_offsets","topic":"t","partitions":[3],"at":"latest"})")) ==
          "UNKNOWN_PARTITION");
    CHECK(error_code(h.json(R"({"op":"list_offsets","topic":"nope","at":"latest"})")) ==
          "UNKNOWN_TOPIC");
  }

  TEST_CASE("list_offsets answers each partition it leads and names the leader of the others") {
    Harness h;
    CHECK(h.json(R"({"op":"create_topic","topic":"t","partitions":3})")["ok"] == true);
    (void)h.json(R"({"op":"produce","topic":"t","partition":2,"records":[{"value":"a"}]})");
    h.ctx().partitions.mutable_state("t", PartitionId(1)).leader = NodeId(7);
    json r = h.json(R"({"op":"list_offsets","topic":"t","at":"latest"})");
    CHECK(r["ok"] == true);
    REQUIRE(r["partitions"].size() == 3);
    CHECK(r["partitions"][0]["offset"] == 0);
    CHECK(r["partitions"][1]["partition"] == 1);
    CHECK(error_code(r["partitions"][1]) == "NOT_LEADER");
    CHECK(r["partitions"][2]["offset"] == 1);
  }
}
