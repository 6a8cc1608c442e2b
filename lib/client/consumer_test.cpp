// The consumer's reply path against a fake broker: answers that once killed
// kconsume (a huge announced size, a string where a number belongs, a float
// too large for an int) are PROTOCOL_ERRORs.
#include "client/consumer.h"

#include <doctest/doctest.h>

#include "client/fake_broker_test.h"

using namespace kreek;
using namespace kreek::client;
using namespace kreek::client::testing;

namespace {

class CountingSink : public RecordSink {
 public:
  bool on_record(const ConsumedRecord&) override {
    ++n;
    return true;
  }
  int n = 0;
};

// One poll of t/0 from offset 0 against `fetch_reply`; `position` is where
// the cursor stands after it.
Status poll_once(const std::string& fetch_reply, int64_t max_bytes = 4 << 20, int64_t* position = nullptr) {
  FakeBroker fake;
  auto cluster = fake_cluster(fake);
  fake.say(kFakeMetadata);
  fake.say(fetch_reply);
  ConsumerOptions o;
  o.topic = "t";
  o.max_bytes = max_bytes;
  Consumer consumer(*cluster, o);
  consumer.assign({Cursor{0, 0, -1, ""}});
  CountingSink sink;
  bool stopped = false;
  Status s = consumer.poll(sink, stopped);
  if (position != nullptr) *position = consumer.cursors().at(0).next;
  return s;
}

}  // namespace

TEST_SUITE("client") {
  TEST_CASE("a fetch header announcing more bytes than max_bytes plus a batch is refused before reading") {
    Status s = poll_once(
        R"({"id":2,"ok":true,"parts":[{"topic":"t","partition":0,"hw":5,"log_start":0,"bytes":9223372036854775807}]})");
    CHECK(s.code() == Code::kProtocol);
    CHECK(s.message().find("announces more than") != std::string::npos);
    SUBCASE("a few GB, summed over parts") {
      s = poll_once(
          R"({"id":2,"ok":true,"parts":[{"topic":"t","partition":0,"hw":5,"log_start":0,"bytes":3000000000}]})",
          1 << 20);
      CHECK(s.code() == Code::kProtocol);
    }
  }

  TEST_CASE("an empty part moves the position only when the broker names the end of a compacted gap") {
    int64_t position = -1;
    // Left unread because max_bytes went to other parts: the same offset again.
    CHECK(poll_once(R"({"id":2,"ok":true,"parts":[{"topic":"t","partition":0,"hw":5,"log_start":0,"bytes":0}]})",
                    4 << 20, &position)
              .is_ok());
    CHECK(position == 0);
    // Nothing left below 3 (compacted away): continue at 3.
    CHECK(poll_once(
              R"({"id":2,"ok":true,"parts":[{"topic":"t","partition":0,"hw":5,"log_start":0,"bytes":0,"next":3}]})",
              4 << 20, &position)
              .is_ok());
    CHECK(position == 3);
    // "next" beside bytes is malformed.
    CHECK(poll_once(
              R"({"id":2,"ok":true,"parts":[{"topic":"t","partition":0,"hw":5,"log_start":0,"bytes":1,"next":3}]})")
              .code() == Code::kProtocol);
  }

  TEST_CASE("an OFFSET_OUT_OF_RANGE error with a string log_start is a protocol error") {
    Status s = poll_once(
        R"({"id":2,"ok":true,"parts":[{"topic":"t","partition":0,"error":{"code":"OFFSET_OUT_OF_RANGE",)"
        R"("message":"no","log_start":"zero","log_end":5},"bytes":0}]})");
    CHECK(s.code() == Code::kProtocol);
    CHECK(s.message() == "malformed OFFSET_OUT_OF_RANGE error: \"log_start\" is not an integer in [0, 9223372036854775807]");
  }

  TEST_CASE("list_offsets answers with float or out-of-range numbers are protocol errors") {
    for (const char* bad : {R"({"partition":0,"offset":1e300})", R"({"partition":1e300,"offset":0})",
                            R"({"partition":0,"offset":"7"})", R"({"partition":0,"offset":3,"log_end":-4})"}) {
      CAPTURE(bad);
      FakeBroker fake;
      auto cluster = fake_cluster(fake);
      fake.say(kFakeMetadata);
      fake.say(std::string(R"({"id":2,"ok":true,"partitions":[)") + bad + "]}");
      ConsumerOptions o;
      o.topic = "t";
      Consumer consumer(*cluster, o);
      auto r = consumer.list_offsets({0}, "latest");
      CHECK(r.status().code() == Code::kProtocol);
    }
  }

  TEST_CASE("list_offsets asks again, with fresh metadata, when the leader has moved") {
    for (int64_t ride_out_ms : {0, 5000}) {
      CAPTURE(ride_out_ms);
      FakeBroker fake;
      auto cluster = fake_cluster(fake);  // max_retries 0: only the ride-out retries
      fake.say(kFakeMetadata);
      fake.say(R"({"id":2,"ok":true,"partitions":[{"partition":0,"error":{"code":"NOT_LEADER","message":"moved"}}]})");
      fake.say(R"({"id":3,"ok":true,"brokers":[{"node":0,"addr":"fake:1"}],)"
               R"("topics":[{"topic":"t","partitions":[{"partition":0,"leader":0}]}]})");
      fake.say(R"({"id":4,"ok":true,"partitions":[{"partition":0,"offset":42,"log_start":0,"log_end":42}]})");
      ConsumerOptions o;
      o.topic = "t";
      o.ride_out_ms = ride_out_ms;
      Consumer consumer(*cluster, o);
      auto r = consumer.list_offsets({0}, "latest");
      if (ride_out_ms == 0) {
        CHECK(r.status().code() == Code::kNotLeader);  // no patience asked for: the first answer stands
      } else {
        REQUIRE(r.is_ok());
        CHECK(r->at(0).offset == 42);
      }
    }
  }
}
