// decode_epoch_end: a leader's offsets_for_epoch part is taken only whole and
// in range. A part read wrongly as "no common epoch" would make the follower
// drop its whole log, so anything malformed must come back empty (the
// follower asks again), never as epoch -1.
#include "broker/replica_fetcher.h"

#include <doctest/doctest.h>

using kreek::broker::decode_epoch_end;
using nlohmann::json;

TEST_CASE("decode_epoch_end takes a whole part and refuses a malformed one") {
  auto end = decode_epoch_end(json::parse(R"({"topic":"t","partition":0,"epoch":3,"end_offset":120})"));
  REQUIRE(end);
  CHECK(end->epoch.value() == 3);
  CHECK(end->end.value() == 120);

  // The leader's own "no such epoch" answer is (-1, -1), and stays one.
  end = decode_epoch_end(json::parse(R"({"topic":"t","partition":0,"epoch":-1,"end_offset":-1})"));
  REQUIRE(end);
  CHECK(end->epoch.value() == -1);

  for (const char* text : {R"({"topic":"t","partition":0})", R"({"topic":"t","partition":0,"epoch":3})",
                           R"({"topic":"t","partition":0,"end_offset":120})",
                           R"({"epoch":1e300,"end_offset":120})", R"({"epoch":3,"end_offset":1.5})",
                           R"({"epoch":"3","end_offset":120})", R"({"epoch":4294967301,"end_offset":120})",
                           R"({"epoch":3,"end_offset":18446744073709551615})", R"({"epoch":-2,"end_offset":120})",
                           R"({"epoch":3,"end_offset":-5})", R"([3,120])", R"("x")"}) {
    CAPTURE(text);
    CHECK_FALSE(decode_epoch_end(json::parse(text)));
  }
}
