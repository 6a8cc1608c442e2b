// ktopic reassign's pieces that need no cluster: the --replicas list, the
// one-line answer, and describe's line for a move in progress.
#include <doctest/doctest.h>

#include "cli/topic_command.h"

namespace kreek::cli {
namespace {

TEST_SUITE("cli") {
  TEST_CASE("--replicas takes comma-separated node ids in order") {
    auto r = parse_replica_list("2,3,1");
    REQUIRE(r.is_ok());
    CHECK(*r == std::vector<int32_t>{2, 3, 1});
    for (const char* bad : {"", "2,", ",2", "a", "2;3", "-1", "1 2", "9999999999"}) {
      CAPTURE(bad);
      CHECK(parse_replica_list(bad).status().code() == Code::kInvalidRequest);
    }
  }

  TEST_CASE("a reassignment answer prints as one line, with the move while it runs") {
    proto::Json running = {{"replicas", {2, 1}}, {"isr", {1}}, {"leader", 1}, {"adding", {2}}, {"removing", {1}}};
    CHECK(reassignment_text("orders", 0, running) ==
          "orders/0: replicas 2,1  isr 1  leader 1  adding 2  removing 1\n");
    proto::Json done = {{"replicas", {2}}, {"isr", {2}}, {"leader", 2}};
    CHECK(reassignment_text("orders", 0, done) == "orders/0: replicas 2  isr 2  leader 2  (done)\n");
  }

  TEST_CASE("describe shows the replicas being added and removed") {
    proto::Json d = {{"topic", "orders"},
                     {"partitions",
                      {{{"partition", 0}, {"leader", 1}, {"epoch", 0}, {"replicas", {2, 1}}, {"isr", {1}},
                        {"adding", {2}}, {"removing", {1}}},
                       {{"partition", 1}, {"leader", 1}, {"epoch", 0}, {"replicas", {1}}, {"isr", {1}}}}}};
    std::string text = describe_text(d);
    CHECK(text.find("reassigning: partition 0 adding 2, removing 1\n") != std::string::npos);
    CHECK(text.find("reassigning: partition 1") == std::string::npos);
  }
}

}  // namespace
}  // namespace kreek::cli
