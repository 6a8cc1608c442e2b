// Offsets-topic records: keys byte for byte, round trips of every kind, and
// CORRUPT_RECORD for every malformed key or value (wrong types, missing or
// extra fields, numbers out of range, an unknown version).
#include "group/offset_records.h"

#include <doctest/doctest.h>

#include <random>

#include "proto/partitioner.h"

using namespace kreek;
using namespace kreek::group;

namespace {

GroupRecord sample_group() {
  GroupRecord g;
  g.group = "workers";
  g.generation = 7;
  g.assignor = "cooperative-sticky";
  g.members.push_back(MemberRecord{"kconsume-0123456789abcdef", "w1", "kconsume", "127.0.0.1:5000", {"logs", "audit"},
                                   {"cooperative-sticky", "range"}, 10000, 30000,
                                   {{"audit", 0}, {"logs", 0}, {"logs", 3}}});
  g.members.push_back(MemberRecord{"kconsume-fedcba9876543210", "", "kconsume", "127.0.0.1:5001", {"logs"},
                                   {"cooperative-sticky"}, 6000, 20000, {}});
  return g;
}

bool same(const GroupRecord& a, const GroupRecord& b) {
  if (a.group != b.group || a.generation != b.generation || a.assignor != b.assignor ||
      a.members.size() != b.members.size())
    return false;
  for (size_t i = 0; i < a.members.size(); ++i) {
    const MemberRecord &x = a.members[i], &y = b.members[i];
    if (x.member_id != y.member_id || x.instance_id != y.instance_id || x.client_id != y.client_id ||
        x.host != y.host || x.topics != y.topics || x.assignors != y.assignors ||
        x.session_timeout_ms != y.session_timeout_ms || x.rebalance_timeout_ms != y.rebalance_timeout_ms ||
        x.assignment != y.assignment)
      return false;
  }
  return true;
}

void refused(std::string_view key, std::optional<std::string_view> value) {
  auto r = decode_record(key, value);
  CHECK_MESSAGE(!r.is_ok(), "accepted key " << key << " value " << (value ? *value : "null"));
  if (!r.is_ok()) CHECK(r.status().code() == Code::kCorrupt);
}

}  // namespace

TEST_SUITE("group") {
  TEST_CASE("offsets topic keys are canonical JSON, byte for byte") {
    CHECK(offset_key("g", {"logs", 3}) == R"({"v":1,"group":"g","topic":"logs","partition":3})");
    CHECK(group_key("g") == R"({"v":1,"group":"g"})");
    CHECK(encode_offset({120, "", 1700000000000}) == R"({"v":1,"offset":120,"metadata":"","commit_ts_ms":1700000000000})");
  }

  TEST_CASE("offsets topic: a group's partition is murmur2 made positive, modulo the count") {
    for (std::string g : {"g", "workers", "a-much-longer-group-name.with.dots", "x"}) {
      CHECK(group_partition(g, 12) == proto::to_positive(proto::murmur2(g)) % 12);
      CHECK(group_partition(g, 12) == proto::partition_for_key(g, 12));
      CHECK(group_partition(g, 1) == 0);
    }
    CHECK(group_partition("g", 0) == 0);  // never divides by zero
  }

  TEST_CASE("group names follow the topic-name rule") {
    CHECK(group_name_problem("workers").empty());
    CHECK(group_name_problem("a.b_c-9").empty());
    CHECK(group_name_problem(std::string(249, 'g')).empty());
    for (std::string bad : std::vector<std::string>{"", ".", "..", "a b", "naïve", std::string(250, 'g'), "a/b"}) {
      std::string p = group_name_problem(bad);
      CHECK_MESSAGE(!p.empty(), bad);
      CHECK(p.find("group") != std::string::npos);
      CHECK(p.find('\n') == std::string::npos);
    }
  }

  TEST_CASE("offsets topic records round trip: offsets, groups, empty groups and tombstones") {
    SUBCASE("offset") {
      CommittedOffset o{42, "note \"quoted\" ünïcode", 99};
      auto r = decode_record(offset_key("g", {"logs", 5}), encode_offset(o));
      REQUIRE(r.is_ok());
      CHECK(r->kind == OffsetsTopicRecord::Kind::kOffset);
      CHECK(r->group == "g");
      CHECK(r->tp == TopicPartition{"logs", 5});
      REQUIRE(r->offset.has_value());
      CHECK(r->offset->offset == 42);
      CHECK(r->offset->metadata == o.metadata);
      CHECK(r->offset->commit_ts_ms == 99);
    }
    SUBCASE("offset tombstone") {
      auto r = decode_record(offset_key("g", {"logs", 5}), std::nullopt);
      REQUIRE(r.is_ok());
      CHECK(r->kind == OffsetsTopicRecord::Kind::kOffset);
      CHECK_FALSE(r->offset.has_value());
    }
    SUBCASE("group") {
      GroupRecord g = sample_group();
      auto r = decode_record(group_key("workers"), encode_group(g));
      REQUIRE(r.is_ok());
      CHECK(r->kind == OffsetsTopicRecord::Kind::kGroup);
      REQUIRE(r->record.has_value());
      CHECK(same(*r->record, g));
      CHECK(encode_group(*r->record) == encode_group(g));
    }
    SUBCASE("empty group") {
      GroupRecord g{"workers", 8, "", {}};
      auto r = decode_record(group_key("workers"), encode_group(g));
      REQUIRE(r.is_ok());
      CHECK(same(*r->record, g));
    }
    SUBCASE("group tombstone") {
      auto r = decode_record(group_key("workers"), std::nullopt);
      REQUIRE(r.is_ok());
      CHECK(r->kind == OffsetsTopicRecord::Kind::kGroup);
      CHECK_FALSE(r->record.has_value());
    }
  }

  TEST_CASE("offsets topic: malformed keys are corrupt") {
    const std::string v = encode_offset({1, "", 0});
    for (std::string key : {
             std::string(""), std::string("not json"), std::string("[]"), std::string("7"),
             std::string(R"({"v":2,"group":"g","topic":"t","partition":0})"),
             std::string(R"({"v":"1","group":"g","topic":"t","partition":0})"),
             std::string(R"({"group":"g","topic":"t","partition":0})"),
             std::string(R"({"v":1,"group":7,"topic":"t","partition":0})"),
             std::string(R"({"v":1,"group":"","topic":"t","partition":0})"),
             std::string(R"({"v":1,"group":"a b","topic":"t","partition":0})"),
             std::string(R"({"v":1,"group":"g","topic":"t","partition":-1})"),
             std::string(R"({"v":1,"group":"g","topic":"t","partition":2147483648})"),
             std::string(R"({"v":1,"group":"g","topic":"t","partition":1.5})"),
             std::string(R"({"v":1,"group":"g","topic":"t","partition":"0"})"),
             std::string(R"({"v":1,"group":"g","topic":"","partition":0})"),
             std::string(R"({"v":1,"group":"g","partition":0})"),
             std::string(R"({"v":1,"group":"g","topic":"t"})"),
             // Not canonical: another field order, spaces, an extra field.
             std::string(R"({"group":"g","v":1,"topic":"t","partition":0})"),
             std::string(R"({"v":1, "group":"g","topic":"t","partition":0})"),
             std::string(R"({"v":1,"group":"g","topic":"t","partition":0,"x":1})"),
             std::string(R"({"v":1,"group":"g","x":1})"),
         }) {
      CAPTURE(key);
      refused(key, v);
    }
  }

  TEST_CASE("offsets topic: malformed offset values are corrupt") {
    const std::string key = offset_key("g", {"t", 0});
    for (std::string value : {
             std::string(""), std::string("{"), std::string("null"), std::string("[1]"),
             std::string(R"({"v":2,"offset":1,"metadata":"","commit_ts_ms":0})"),
             std::string(R"({"offset":1,"metadata":"","commit_ts_ms":0})"),
             std::string(R"({"v":1,"metadata":"","commit_ts_ms":0})"),
             std::string(R"({"v":1,"offset":-1,"metadata":"","commit_ts_ms":0})"),
             std::string(R"({"v":1,"offset":9223372036854775808,"metadata":"","commit_ts_ms":0})"),
             std::string(R"({"v":1,"offset":1.0,"metadata":"","commit_ts_ms":0})"),
             std::string(R"({"v":1,"offset":true,"metadata":"","commit_ts_ms":0})"),
             std::string(R"({"v":1,"offset":1,"metadata":null,"commit_ts_ms":0})"),
             std::string(R"({"v":1,"offset":1,"metadata":""})"),
             std::string(R"({"v":1,"offset":1,"metadata":"","commit_ts_ms":-5})"),
             std::string(R"({"v":1,"offset":1,"metadata":"","commit_ts_ms":0,"extra":1})"),
         }) {
      CAPTURE(value);
      refused(key, value);
    }
    // An offset value under a group key, and a group value under an offset key.
    refused(group_key("g"), encode_offset({1, "", 0}));
    refused(key, encode_group(sample_group()));
  }

  TEST_CASE("offsets topic: damaged records decode or are corrupt, never anything else") {
    // Flipped, dropped and inserted bytes in valid keys and values: the
    // decoder must not throw, and what it accepts must be canonical.
    std::mt19937_64 rng(99);
    const std::vector<std::pair<std::string, std::string>> good = {
        {offset_key("g", {"logs", 12}), encode_offset({120, "m", 5})},
        {group_key("workers"), encode_group(sample_group())},
    };
    for (int i = 0; i < 20000; ++i) {
      auto [key, value] = good[static_cast<size_t>(i) % good.size()];
      std::string& victim = rng() % 3 == 0 ? key : value;
      for (int n = 1 + static_cast<int>(rng() % 3); n > 0 && !victim.empty(); --n) {
        const size_t at = rng() % victim.size();
        switch (rng() % 3) {
          case 0: victim[at] = static_cast<char>(rng() % 256); break;
          case 1: victim.erase(at, 1); break;
          default: victim.insert(at, 1, "{}[]\",:0-9e\\"[rng() % 11]); break;
        }
      }
      auto r = decode_record(key, value);
      if (!r.is_ok()) {
        REQUIRE(r.status().code() == Code::kCorrupt);
        continue;
      }
      const std::string canonical =
          r->kind == OffsetsTopicRecord::Kind::kGroup ? group_key(r->group) : offset_key(r->group, r->tp);
      REQUIRE(canonical == key);
    }
  }

  TEST_CASE("offsets topic: malformed group values are corrupt") {
    const std::string key = group_key("workers");
    const std::string good = encode_group(sample_group());
    REQUIRE(decode_record(key, good).is_ok());
    auto replaced = [&](std::string from, std::string to) {
      std::string s = good;
      auto at = s.find(from);
      REQUIRE_MESSAGE(at != std::string::npos, from);
      s.replace(at, from.size(), to);
      return s;
    };
    for (std::string value : {
             replaced(R"("v":1)", R"("v":0)"),
             replaced(R"("generation":7)", R"("generation":-1)"),
             replaced(R"("generation":7)", R"("generation":2147483648)"),
             replaced(R"("generation":7)", R"("generation":"7")"),
             replaced(R"("assignor":"cooperative-sticky")", R"("assignor":"fastest")"),
             replaced(R"("assignor":"cooperative-sticky")", R"("assignor":null)"),
             replaced(R"("members":[)", R"("members":{"a":[)"),
             replaced(R"("member_id":"kconsume-0123456789abcdef")", R"("member_id":"")"),
             replaced(R"("member_id":"kconsume-fedcba9876543210")", R"("member_id":"kconsume-0123456789abcdef")"),
             replaced(R"("instance_id":"w1")", R"("instance_id":1)"),
             replaced(R"("client_id":"kconsume",)", ""),
             replaced(R"("topics":["logs","audit"])", R"("topics":"logs")"),
             replaced(R"("topics":["logs","audit"])", R"("topics":["logs",3])"),
             replaced(R"("assignors":["cooperative-sticky","range"])", R"("assignors":[null])"),
             replaced(R"("session_timeout_ms":10000)", R"("session_timeout_ms":-1)"),
             replaced(R"("rebalance_timeout_ms":30000)", R"("rebalance_timeout_ms":3e4)"),
             replaced(R"("partitions":[0,3])", R"("partitions":[0,-3])"),
             replaced(R"("partitions":[0,3])", R"("partitions":[0,0])"),
             replaced(R"("partitions":[0,3])", R"("partitions":[0,4294967296])"),
             replaced(R"("partitions":[0,3])", R"("partitions":"0")"),
             replaced(R"({"topic":"audit","partitions":[0]})", R"({"topic":"","partitions":[0]})"),
             replaced(R"({"topic":"audit","partitions":[0]})", R"({"topic":"audit","partitions":[0],"x":1})"),
             replaced(R"("assignment":[])", R"("assignment":[{"topic":"logs","partitions":[3]}])"),  // twice
             replaced(R"("assignment":[])", R"("assignment":[],"x":1)"),
             replaced(R"(,"members")", R"(,"x":1,"members")"),
         }) {
      CAPTURE(value);
      refused(key, value);
    }
  }
}
