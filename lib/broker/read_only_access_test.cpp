// A connection admitted with the read-only token reads records, offsets,
// metadata and group views, and is refused every write with UNAUTHORIZED,
// the connection staying open; the other connections write as before.
#include "broker/read_only_access.h"

#include <doctest/doctest.h>

#include "broker/broker_test_util.h"
#include "broker/request_router.h"

using namespace kreek;
using namespace kreek::broker;
using kreek::broker::testing::error_code;
using kreek::broker::testing::Harness;
using nlohmann::json;

namespace {

constexpr uint64_t kReader = 7, kWriter = 8;

// The answer's first line on connection `conn`.
json ask(Harness& h, uint64_t conn, std::string_view line) {
  auto sink = std::make_shared<ReplySink>();
  h.router().on_line(line, Reply(sink), "127.0.0.1:1", conn);
  REQUIRE(sink->replies.size() == 1);
  REQUIRE(sink->replies[0].has_value());
  const std::string& head = sink->replies[0]->head;
  return json::parse(head.substr(0, head.find('\n')));
}

}  // namespace

TEST_SUITE("broker") {
  TEST_CASE("a read-only connection reads and is refused every write") {
    Harness h;
    h.router().set_read_only_check([](uint64_t conn) { return conn == kReader; });
    REQUIRE(ask(h, kWriter, R"({"id":1,"op":"create_topic","topic":"t","partitions":1})")["ok"] == true);
    REQUIRE(ask(h, kWriter, R"({"id":2,"op":"produce","topic":"t","partition":0,"records":[{"value":"a"}]})")["ok"] == true);

    for (const char* read : {R"({"id":3,"op":"hello"})", R"({"id":3,"op":"metadata","topics":["t"]})",
                             R"({"id":3,"op":"describe_topic","topic":"t"})",
                             R"({"id":3,"op":"list_offsets","topic":"t","partitions":[0],"at":"latest"})",
                             R"({"id":3,"op":"fetch","topic":"t","partition":0,"offset":0})"}) {
      CAPTURE(read);
      json j = ask(h, kReader, read);
      CHECK(j["ok"] == true);
    }

    for (const char* write :
         {R"({"id":4,"op":"produce","topic":"t","partition":0,"records":[{"value":"b"}]})",
          R"({"id":4,"op":"create_topic","topic":"u","partitions":1})", R"({"id":4,"op":"delete_topic","topic":"t"})",
          R"({"id":4,"op":"alter_topic","topic":"t","config":{"retention.ms":"1000"}})",
          R"({"id":4,"op":"create_partitions","topic":"t","partitions":2})", R"({"id":4,"op":"init_producer_id"})",
          R"({"id":4,"op":"join_group","group":"g","topics":["t"]})",
          R"({"id":4,"op":"commit_offsets","group":"g","offsets":[]})", R"({"id":4,"op":"delete_group","group":"g"})",
          R"({"id":4,"op":"fetch","topic":"t","partition":0,"offset":0,"replica":1})",
          R"({"id":4,"op":"metadata","topics":["new"],"auto_create":true})"}) {
      CAPTURE(write);
      json j = ask(h, kReader, write);
      CHECK(error_code(j) == "UNAUTHORIZED");
      CHECK(j["id"] == 4);
      CHECK(j["error"]["message"].get<std::string>().find("read-only") != std::string::npos);
    }
    CHECK(h.logs().topic("u") == nullptr);
    CHECK(h.logs().topic("new") == nullptr);
    CHECK(error_code(ask(h, kReader, R"({"id":5,"op":"no_such_op"})")) == "INVALID_REQUEST");

    // Nothing the reader tried was written; the writer still writes.
    json after = ask(h, kWriter, R"({"id":6,"op":"produce","topic":"t","partition":0,"records":[{"value":"c"}]})");
    CHECK(after["ok"] == true);
    CHECK(after["base"] == 1);
  }

  TEST_CASE("the read-only ops are exactly the reads") {
    for (const char* op : {"hello", "metadata", "describe_cluster", "describe_topic", "list_offsets",
                           "offsets_for_epoch", "fetch", "metrics", "find_coordinator", "fetch_offsets",
                           "list_groups", "describe_group"})
      CHECK_MESSAGE(check_read_only_op(op).is_ok(), op);
    for (const char* op : {"produce", "create_topic", "delete_topic", "alter_topic", "create_partitions",
                           "alter_reassignment", "init_producer_id", "join_group", "sync_group", "heartbeat",
                           "leave_group", "commit_offsets", "delete_group"})
      CHECK_MESSAGE(check_read_only_op(op).code() == Code::kUnauthorized, op);
  }
}
