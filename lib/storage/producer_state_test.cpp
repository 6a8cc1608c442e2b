// ProducerState: new, duplicate, gap and fenced-epoch decisions, sequence
// wrap-around, the bound on remembered batches, replay and the snapshot codec.
#include "storage/producer_state.h"

#include <doctest/doctest.h>

using namespace kreek;
using namespace kreek::storage;

namespace {

BatchHeader batch(int64_t pid, int16_t pepoch, int32_t seq, int32_t n, int64_t base) {
  BatchHeader h;
  h.base = Offset(base);
  h.n = n;
  h.pid = pid;
  h.pepoch = pepoch;
  h.seq = seq;
  return h;
}

Code code_of(const Result<SequenceCheck>& r) { return r.is_ok() ? Code::kOk : r.status().code(); }

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("an unknown producer may start at any sequence") {
    ProducerState s;
    auto r = s.check(7, 0, 0, 3);
    REQUIRE(r);
    CHECK_FALSE(r->duplicate);
    auto later = s.check(7, 0, 1234, 3);
    REQUIRE(later);
    CHECK_FALSE(later->duplicate);
  }

  TEST_CASE("the next sequence is new, a repeated batch is a duplicate with its original offsets") {
    ProducerState s;
    s.update(batch(7, 0, 0, 3, 100));   // seq 0..2 at 100..102
    s.update(batch(7, 0, 3, 2, 110));   // seq 3..4 at 110..111
    auto next = s.check(7, 0, 5, 1);
    REQUIRE(next);
    CHECK_FALSE(next->duplicate);
    auto again = s.check(7, 0, 0, 3);
    REQUIRE(again);
    CHECK(again->duplicate);
    CHECK(again->base == Offset(100));
    CHECK(again->last == Offset(102));
    auto last = s.check(7, 0, 3, 2);
    REQUIRE(last);
    CHECK(last->duplicate);
    CHECK(last->base == Offset(110));
    SUBCASE("a gap or a batch that only overlaps is out of order") {
      CHECK(code_of(s.check(7, 0, 6, 1)) == Code::kOutOfOrderSequence);
      CHECK(code_of(s.check(7, 0, 1, 2)) == Code::kOutOfOrderSequence);
      CHECK(code_of(s.check(7, 0, 0, 2)) == Code::kOutOfOrderSequence);
    }
    SUBCASE("other producers are independent") {
      auto other = s.check(8, 0, 0, 3);
      REQUIRE(other);
      CHECK_FALSE(other->duplicate);
    }
  }

  TEST_CASE("only the last five batches are remembered") {
    ProducerState s;
    for (int i = 0; i < 7; ++i) s.update(batch(1, 0, i, 1, 10 * i));
    CHECK(s.find(1)->batches.size() == kProducerBatchesKept);
    CHECK(code_of(s.check(1, 0, 1, 1)) == Code::kOutOfOrderSequence);  // too old to tell
    auto kept = s.check(1, 0, 2, 1);
    REQUIRE(kept);
    CHECK(kept->duplicate);
    CHECK(kept->base == Offset(20));
  }

  TEST_CASE("an older producer epoch is fenced, a newer one starts at sequence 0") {
    ProducerState s;
    s.update(batch(7, 2, 0, 5, 0));
    CHECK(code_of(s.check(7, 1, 5, 1)) == Code::kFencedEpoch);
    CHECK(code_of(s.check(7, 3, 5, 1)) == Code::kOutOfOrderSequence);
    auto fresh = s.check(7, 3, 0, 1);
    REQUIRE(fresh);
    CHECK_FALSE(fresh->duplicate);
    s.update(batch(7, 3, 0, 1, 5));
    CHECK(s.find(7)->pepoch == 3);
    CHECK(s.find(7)->batches.size() == 1);  // the old epoch's batches are gone
    CHECK(code_of(s.check(7, 2, 5, 1)) == Code::kFencedEpoch);
  }

  TEST_CASE("sequence numbers wrap from INT32_MAX to 0") {
    CHECK(next_sequence(INT32_MAX) == 0);
    CHECK(last_sequence(INT32_MAX - 1, 3) == 0);
    CHECK(last_sequence(INT32_MAX, 1) == INT32_MAX);
    ProducerState s;
    s.update(batch(7, 0, INT32_MAX - 1, 3, 100));  // INT32_MAX-1, INT32_MAX, 0
    auto next = s.check(7, 0, 1, 4);
    REQUIRE(next);
    CHECK_FALSE(next->duplicate);
    auto dup = s.check(7, 0, INT32_MAX - 1, 3);
    REQUIRE(dup);
    CHECK(dup->duplicate);
    CHECK(code_of(s.check(7, 0, 0, 1)) == Code::kOutOfOrderSequence);
  }

  TEST_CASE("batches without a producer id leave the state alone") {
    ProducerState s;
    BatchHeader plain;
    plain.base = Offset(0);
    plain.n = 4;
    s.update(plain);
    CHECK(s.empty());
  }

  TEST_CASE("a producer snapshot round-trips, and replaying the same batches gives the same state") {
    ProducerState s;
    ProducerState replayed;
    for (int i = 0; i < 8; ++i) {
      BatchHeader h = batch(i % 3, static_cast<int16_t>(i / 6), i, 2, 100 + 2 * i);
      s.update(h);
      replayed.update(h);
    }
    CHECK(s == replayed);
    std::string text = s.encode_snapshot(Offset(116));
    Offset at;
    auto back = ProducerState::decode_snapshot(text, &at);
    REQUIRE(back);
    CHECK(at == Offset(116));
    CHECK(*back == s);
    auto empty = ProducerState::decode_snapshot(ProducerState().encode_snapshot(Offset(0)), &at);
    REQUIRE(empty);
    CHECK(empty->empty());
    SUBCASE("a damaged or foreign snapshot is corrupt") {
      for (std::string_view bad : {"", "[]", "{\"version\":2,\"offset\":0,\"producers\":[]}",
                                   "{\"version\":1,\"producers\":[]}",
                                   "{\"version\":1,\"offset\":0,\"producers\":[{\"pid\":-1,\"pepoch\":0,\"batches\":[]}]}",
                                   "{\"version\":1,\"offset\":0,\"producers\":[{\"pid\":1,\"pepoch\":0,\"batches\":[[0,1,5,4]]}]}"}) {
        CAPTURE(bad);
        CHECK(ProducerState::decode_snapshot(bad, &at).status().code() == Code::kCorrupt);
      }
      CHECK_FALSE(ProducerState::decode_snapshot(text.substr(0, text.size() / 2), &at));
    }
  }
}
