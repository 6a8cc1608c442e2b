// The broker's consumer-group ops through the request router: the offsets
// topic made by find_coordinator, strict validation, join/sync/heartbeat with
// parked joins, session expiry on the coordinator's clock, fenced commits,
// NOT_COORDINATOR when another broker leads the group's partition, groups
// read back from the log when leadership returns, and delete_group.
#include <doctest/doctest.h>

#include "broker/broker_test_util.h"
#include "broker/group_coordinator.h"
#include "broker/replica_manager.h"
#include "group/group.h"
#include "storage/partition_log.h"

namespace kreek::broker {
namespace {

using nlohmann::json;
using testing::error_code;
using testing::Harness;

const std::string kOffsets(group::kOffsetsTopic);

BrokerConfig group_config() {
  BrokerConfig c;
  c.offsets_topic_partitions = 3;
  return c;
}

// A harness whose group coordinator runs on a clock the test moves.
struct Groups {
  Harness h{group_config()};
  int64_t now = 1'000'000;
  Groups() {
    h.ctx().groups->set_clock([this] { return now; });
    REQUIRE(h.json(R"({"op":"create_topic","id":1,"topic":"logs","partitions":4})")["ok"] == true);
    json fc = h.json(R"({"op":"find_coordinator","id":1,"group":"g"})");
    REQUIRE_MESSAGE(fc["ok"] == true, fc.dump());
  }
  void advance(int64_t ms) {
    now += ms;
    h.ctx().groups->tick();
  }
  int32_t partition_of(const std::string& g) { return group::group_partition(g, 3); }
  // Moves the offsets partition's leadership (self: this broker, at a new epoch).
  void lead_offsets(int32_t p, NodeId leader, int32_t epoch) {
    PartitionState& ps = h.ctx().partitions.mutable_state(kOffsets, PartitionId(p));
    ps.leader = leader;
    ps.epoch = LeaderEpoch(epoch);
    ps.replicas = {h.ctx().partitions.self()};
    ps.isr = {h.ctx().partitions.self()};
    if (leader != h.ctx().partitions.self()) h.ctx().brokers[leader.value()] = BrokerAddress{"127.0.0.1:9999", "", {}};
    h.ctx().replicas->on_metadata();
    h.ctx().groups->on_metadata();
  }
};

std::string join_line(const std::string& member, const std::string& assignor = "range", int session = 10000,
                      const std::string& group = "g") {
  return R"({"op":"join_group","id":2,"group":")" + group + R"(","member_id":")" + member +
         R"(","client_id":"kc","topics":["logs"],"assignors":[")" + assignor +
         R"("],"session_timeout_ms":)" + std::to_string(session) + R"(,"rebalance_timeout_ms":5000})";
}

json reply_json(const std::shared_ptr<ReplySink>& sink, size_t i = 0) {
  REQUIRE(sink->replies.size() > i);
  REQUIRE(sink->replies[i].has_value());
  return json::parse(sink->replies[i]->head);
}

std::string member_line(const char* op, const std::string& member, int generation, const std::string& extra = "") {
  return std::string(R"({"op":")") + op + R"(","id":3,"group":"g","member_id":")" + member +
         R"(","generation":)" + std::to_string(generation) + extra + "}";
}

std::string commit_line(const std::string& member, int generation, int64_t offset, int partition = 0) {
  return member_line("commit_offsets", member, generation,
                     R"(,"offsets":[{"topic":"logs","partition":)" + std::to_string(partition) +
                         R"(,"offset":)" + std::to_string(offset) + R"(,"metadata":"m"}])");
}

// Joins a lone member and syncs it: {member id, generation}.
std::pair<std::string, int> join_alone(Groups& g, const std::string& assignor = "range") {
  json j = g.h.json(join_line("", assignor));
  REQUIRE_MESSAGE(j["ok"] == true, j.dump());
  std::string id = j["member_id"];
  int gen = j["generation"];
  json s = g.h.json(member_line("sync_group", id, gen));
  REQUIRE_MESSAGE(s["ok"] == true, s.dump());
  return {id, gen};
}

TEST_SUITE("broker groups") {
  TEST_CASE("find_coordinator creates the compacted offsets topic and names this broker") {
    Groups g;
    const storage::TopicInfo* t = g.h.logs().topic(kOffsets);
    REQUIRE(t != nullptr);
    CHECK(t->partitions == 3);
    CHECK(t->config.cleanup_compact);
    CHECK(t->config.segment_bytes == 100 << 20);
    json fc = g.h.json(R"({"op":"find_coordinator","id":1,"group":"g"})");
    CHECK(fc["node"] == 0);
    CHECK(fc["partition"] == g.partition_of("g"));
    CHECK(fc["addr"].is_string());
    CHECK(error_code(g.h.json(R"({"op":"find_coordinator","id":1,"group":"a b"})")) == "INVALID_REQUEST");
    CHECK(error_code(g.h.json(R"({"op":"find_coordinator","id":1})")) == "INVALID_REQUEST");
  }

  TEST_CASE("clients may read the offsets topic but not write, create or delete it") {
    Groups g;
    json p = g.h.json(R"({"op":"produce","id":1,"topic":"__consumer_offsets","partition":0,"records":[{"key":"k","value":"v"}]})");
    CHECK(error_code(p) == "INVALID_REQUEST");
    CHECK(p["error"]["message"].get<std::string>().find("internal") != std::string::npos);
    CHECK(error_code(g.h.json(R"({"op":"delete_topic","id":1,"topic":"__consumer_offsets"})")) == "INVALID_REQUEST");
    CHECK(error_code(g.h.json(R"({"op":"create_topic","id":1,"topic":"__consumer_offsets"})")) == "INVALID_REQUEST");
    CHECK(g.h.logs().topic(kOffsets) != nullptr);
    json f = g.h.json(R"({"op":"fetch","id":1,"topic":"__consumer_offsets","partition":0,"offset":0})");
    CHECK(f["ok"] == true);
  }

  TEST_CASE("every field of a group request is checked") {
    Groups g;
    auto code = [&](const std::string& line) { return error_code(g.h.json(line)); };
    SUBCASE("join") {
      CHECK(code(R"({"op":"join_group","id":1,"group":"g","member_id":"","assignors":["range"]})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"join_group","id":1,"group":"g","member_id":"","topics":[],"assignors":["range"]})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"join_group","id":1,"group":"g","member_id":"","topics":["a b"],"assignors":["range"]})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"join_group","id":1,"group":"g","member_id":"","topics":["x","x"],"assignors":["range"]})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"join_group","id":1,"group":"g","member_id":"","topics":["x"],"assignors":["fair"]})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"join_group","id":1,"group":"g","member_id":"","topics":["x"],"assignors":[]})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"join_group","id":1,"group":"g","member_id":7,"topics":["x"],"assignors":["range"]})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"join_group","id":1,"group":"g","topics":["x"],"assignors":["range"]})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"join_group","id":1,"group":"g","member_id":"","topics":["x"],"assignors":["range"],"session_timeout_ms":"1"})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"join_group","id":1,"group":"g","member_id":"","topics":["x"],"assignors":["range"],"instance_id":"a/b"})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"join_group","id":1,"group":"g","member_id":"","topics":["x"],"assignors":["range"],"owned":[{"topic":"x","partitions":[-1]}]})") == "INVALID_REQUEST");
      // Outside the broker's session limits (1000..300000 by default).
      CHECK(code(R"({"op":"join_group","id":1,"group":"g","member_id":"","topics":["x"],"assignors":["range"],"session_timeout_ms":10})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"join_group","id":1,"group":"g","member_id":"nobody","topics":["x"],"assignors":["range"]})") == "UNKNOWN_MEMBER_ID");
      // Refused joins leave no group behind.
      CHECK(g.h.json(R"({"op":"list_groups","id":1})")["groups"].empty());
    }
    SUBCASE("member ops") {
      CHECK(code(R"({"op":"heartbeat","id":1,"group":"g","member_id":"","generation":1})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"heartbeat","id":1,"group":"g","member_id":"m"})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"sync_group","id":1,"group":"g","member_id":"m","generation":-2})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"leave_group","id":1,"group":"g"})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"heartbeat","id":1,"group":"g","member_id":"nobody","generation":1})") == "UNKNOWN_MEMBER_ID");
    }
    SUBCASE("commits") {
      CHECK(code(R"({"op":"commit_offsets","id":1,"group":"g","member_id":"","generation":-1,"offsets":[]})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"commit_offsets","id":1,"group":"g","member_id":"","generation":-1,"offsets":[{"topic":"logs","partition":0,"offset":-1}]})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"commit_offsets","id":1,"group":"g","member_id":"","generation":-1,"offsets":[{"topic":"logs","partition":0}]})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"commit_offsets","id":1,"group":"g","member_id":"","generation":-1,"offsets":[{"topic":"logs","partition":0,"offset":1},{"topic":"logs","partition":0,"offset":2}]})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"commit_offsets","id":1,"group":"g","member_id":"","generation":3,"offsets":[{"topic":"logs","partition":0,"offset":1}]})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"commit_offsets","id":1,"group":"g","member_id":"","generation":-1,"offsets":[{"topic":"nope","partition":0,"offset":1}]})") == "UNKNOWN_TOPIC");
      CHECK(code(R"({"op":"commit_offsets","id":1,"group":"g","member_id":"","generation":-1,"offsets":[{"topic":"logs","partition":4,"offset":1}]})") == "UNKNOWN_PARTITION");
      // A refused commit leaves no group behind.
      CHECK(code(R"({"op":"describe_group","id":1,"group":"g"})") == "GROUP_ID_NOT_FOUND");
    }
    SUBCASE("reads") {
      CHECK(code(R"({"op":"fetch_offsets","id":1,"group":"g","topics":"logs"})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"describe_group","id":1,"group":""})") == "INVALID_REQUEST");
      CHECK(code(R"({"op":"delete_group","id":1,"group":"g"})") == "GROUP_ID_NOT_FOUND");
      json f = g.h.json(R"({"op":"fetch_offsets","id":1,"group":"unknown"})");
      CHECK(f["ok"] == true);
      CHECK(f["offsets"].empty());
    }
  }

  TEST_CASE("a lone member joins, syncs all partitions, commits and reads its offsets back") {
    Groups g;
    auto [id, gen] = join_alone(g);
    CHECK(id.rfind("kc-", 0) == 0);
    CHECK(gen >= 1);
    json s = g.h.json(member_line("sync_group", id, gen));
    CHECK(s["generation"] == gen);
    CHECK(s["assignment"] == json::parse(R"([{"topic":"logs","partitions":[0,1,2,3]}])"));
    CHECK(g.h.json(member_line("heartbeat", id, gen))["ok"] == true);
    CHECK(g.h.json(commit_line(id, gen, 42))["ok"] == true);
    json f = g.h.json(R"({"op":"fetch_offsets","id":1,"group":"g","topics":["logs"]})");
    CHECK(f["offsets"] == json::parse(R"([{"topic":"logs","partition":0,"offset":42,"metadata":"m"}])"));
    json d = g.h.json(R"({"op":"describe_group","id":1,"group":"g"})");
    CHECK(d["state"] == "Stable");
    CHECK(d["generation"] == gen);
    CHECK(d["assignor"] == "range");
    REQUIRE(d["members"].size() == 1);
    CHECK(d["members"][0]["member_id"] == id);
    CHECK(d["members"][0]["instance_id"].is_null());
    CHECK(d["members"][0]["assignment"][0]["partitions"].size() == 4);
    CHECK(d["offsets"] == json::parse(R"([{"topic":"logs","partition":0,"offset":42}])"));
    json l = g.h.json(R"({"op":"list_groups","id":1})");
    CHECK(l["groups"] == json::parse(R"([{"group":"g","state":"Stable","members":1}])"));
    // The commit is in the offsets topic: a record at the group's partition.
    CHECK(g.h.logs().log(kOffsets, PartitionId(g.partition_of("g")))->log_end().value() >= 2);
  }

  TEST_CASE("a second member parks its join until the first rejoins; the partitions are split") {
    Groups g;
    auto [a, gen1] = join_alone(g);
    auto pending = g.h.send(join_line(""));
    CHECK(pending->replies.empty());  // parked: the join phase waits for a
    CHECK(error_code(g.h.json(member_line("heartbeat", a, gen1))) == "REBALANCE_IN_PROGRESS");
    json ja = g.h.json(join_line(a));
    REQUIRE(ja["ok"] == true);
    json jb = reply_json(pending);
    REQUIRE(jb["ok"] == true);
    int gen2 = ja["generation"];
    CHECK(gen2 > gen1);
    CHECK(jb["generation"] == gen2);
    std::string b = jb["member_id"];
    CHECK(b != a);
    json sa = g.h.json(member_line("sync_group", a, gen2));
    json sb = g.h.json(member_line("sync_group", b, gen2));
    CHECK(sa["assignment"][0]["partitions"].size() == 2);
    CHECK(sb["assignment"][0]["partitions"].size() == 2);
    CHECK(sa["assignment"] != sb["assignment"]);
    // A commit from the old generation is fenced.
    CHECK(error_code(g.h.json(commit_line(a, gen1, 5))) == "ILLEGAL_GENERATION");
    CHECK(g.h.json(commit_line(a, gen2, 5))["ok"] == true);
    // Admin resets are refused while members live, and so is delete_group.
    CHECK(error_code(g.h.json(commit_line("", -1, 0))) == "GROUP_NOT_EMPTY");
    CHECK(error_code(g.h.json(R"({"op":"delete_group","id":1,"group":"g"})")) == "GROUP_NOT_EMPTY");
  }

  TEST_CASE("a member that stops heartbeating is expired and the other gets everything") {
    Groups g;
    auto [a, gen1] = join_alone(g);
    auto pending = g.h.send(join_line("", "range", 3000));
    json ja = g.h.json(join_line(a));
    json jb = reply_json(pending);
    std::string b = jb["member_id"];
    int gen2 = ja["generation"];
    g.h.json(member_line("sync_group", a, gen2));
    g.h.json(member_line("sync_group", b, gen2));
    // a keeps heartbeating; b (3 s session) goes silent.
    for (int i = 0; i < 4; ++i) {
      g.advance(1000);
      g.h.json(member_line("heartbeat", a, gen2));
    }
    json hb = g.h.json(member_line("heartbeat", a, gen2));
    CHECK(error_code(hb) == "REBALANCE_IN_PROGRESS");
    json again = g.h.json(join_line(a));
    REQUIRE(again["ok"] == true);
    int gen3 = again["generation"];
    json s = g.h.json(member_line("sync_group", a, gen3));
    CHECK(s["assignment"][0]["partitions"].size() == 4);
    CHECK(error_code(g.h.json(member_line("heartbeat", b, gen2))) == "UNKNOWN_MEMBER_ID");
  }

  TEST_CASE("another broker leading the group's partition makes this one answer NOT_COORDINATOR") {
    Groups g;
    auto [a, gen1] = join_alone(g);
    auto pending = g.h.send(join_line(""));
    REQUIRE(pending->replies.empty());
    int32_t p = g.partition_of("g");
    g.lead_offsets(p, NodeId(5), 1);
    // The parked join learns at once that the group moved.
    CHECK(error_code(reply_json(pending)) == "NOT_COORDINATOR");
    json hb = g.h.json(member_line("heartbeat", a, gen1));
    CHECK(error_code(hb) == "NOT_COORDINATOR");
    CHECK(hb["error"]["message"].get<std::string>().find("node 5") != std::string::npos);
    CHECK(error_code(g.h.json(commit_line(a, gen1, 1))) == "NOT_COORDINATOR");
    CHECK(error_code(g.h.json(R"({"op":"fetch_offsets","id":1,"group":"g"})")) == "NOT_COORDINATOR");
    CHECK(g.h.json(R"({"op":"list_groups","id":1})")["groups"].empty());
    json fc = g.h.json(R"({"op":"find_coordinator","id":1,"group":"g"})");
    CHECK(fc["node"] == 5);
    CHECK(fc["addr"] == "127.0.0.1:9999");
    PartitionState& ps = g.h.ctx().partitions.mutable_state(kOffsets, PartitionId(p));
    ps.leader = NodeId(-1);
    CHECK(error_code(g.h.json(R"({"op":"find_coordinator","id":1,"group":"g"})")) == "COORDINATOR_NOT_AVAILABLE");
  }

  TEST_CASE("a broker that leads the partition again reads its groups back from the log") {
    Groups g;
    auto [a, gen1] = join_alone(g);
    REQUIRE(g.h.json(commit_line(a, gen1, 120, 1))["ok"] == true);
    REQUIRE(g.h.json(commit_line(a, gen1, 7, 2))["ok"] == true);
    REQUIRE(g.h.json(commit_line(a, gen1, 130, 1))["ok"] == true);  // the later one wins
    // A second group in the same log, deleted: it must stay deleted.
    std::string other;
    for (int i = 0; other.empty(); ++i)
      if (g.partition_of("o" + std::to_string(i)) == g.partition_of("g")) other = "o" + std::to_string(i);
    REQUIRE(g.h.json(R"({"op":"commit_offsets","id":1,"group":")" + other +
                     R"(","member_id":"","generation":-1,"offsets":[{"topic":"logs","partition":0,"offset":1}]})")["ok"] == true);
    REQUIRE(g.h.json(R"({"op":"delete_group","id":1,"group":")" + other + R"("})")["ok"] == true);

    int32_t p = g.partition_of("g");
    g.lead_offsets(p, NodeId(5), 1);
    g.lead_offsets(p, g.h.ctx().partitions.self(), 2);
    json f = g.h.json(R"({"op":"fetch_offsets","id":1,"group":"g"})");
    CHECK(f["offsets"] == json::parse(R"([{"topic":"logs","partition":1,"offset":130,"metadata":"m"},
                                          {"topic":"logs","partition":2,"offset":7,"metadata":"m"}])"));
    json d = g.h.json(R"({"op":"describe_group","id":1,"group":"g"})");
    CHECK(d["generation"] == gen1);
    CHECK(d["members"].size() == 1);
    CHECK(error_code(g.h.json(R"({"op":"describe_group","id":1,"group":")" + other + R"("})")) == "GROUP_ID_NOT_FOUND");
    // The restored member carries on; a new member makes a later generation.
    CHECK(g.h.json(member_line("heartbeat", a, gen1))["ok"] == true);
    auto pending = g.h.send(join_line(""));
    json ja = g.h.json(join_line(a));
    REQUIRE(ja["ok"] == true);
    CHECK(ja["generation"].get<int>() > gen1);
    CHECK(reply_json(pending)["generation"] == ja["generation"]);
  }

  TEST_CASE("delete_group after the last member left removes its offsets") {
    Groups g;
    auto [a, gen] = join_alone(g);
    REQUIRE(g.h.json(commit_line(a, gen, 9))["ok"] == true);
    REQUIRE(g.h.json(R"({"op":"leave_group","id":1,"group":"g","member_id":")" + a + R"("})")["ok"] == true);
    CHECK(error_code(g.h.json(R"({"op":"leave_group","id":1,"group":"g","member_id":")" + a + R"("})")) ==
          "UNKNOWN_MEMBER_ID");
    json d = g.h.json(R"({"op":"describe_group","id":1,"group":"g"})");
    CHECK(d["state"] == "Empty");
    CHECK(d["members"].empty());
    // With no members an admin reset is allowed.
    CHECK(g.h.json(commit_line("", -1, 3))["ok"] == true);
    CHECK(g.h.json(R"({"op":"delete_group","id":1,"group":"g"})")["ok"] == true);
    CHECK(error_code(g.h.json(R"({"op":"describe_group","id":1,"group":"g"})")) == "GROUP_ID_NOT_FOUND");
    CHECK(g.h.json(R"({"op":"fetch_offsets","id":1,"group":"g"})")["offsets"].empty());
    int32_t p = g.partition_of("g");
    g.lead_offsets(p, g.h.ctx().partitions.self(), 7);
    CHECK(g.h.json(R"({"op":"fetch_offsets","id":1,"group":"g"})")["offsets"].empty());
  }

  TEST_CASE("a group left with neither members nor offsets is forgotten: not listed, not kept, not loaded again") {
    Groups g;
    auto [a, gen] = join_alone(g);
    REQUIRE(g.h.json(R"({"op":"leave_group","id":1,"group":"g","member_id":")" + a + R"("})")["ok"] == true);
    CHECK(error_code(g.h.json(R"({"op":"describe_group","id":1,"group":"g"})")) == "GROUP_ID_NOT_FOUND");
    CHECK(g.h.json(R"({"op":"list_groups","id":1})")["groups"].empty());
    CHECK(g.h.ctx().groups->find("g") == nullptr);
    g.lead_offsets(g.partition_of("g"), g.h.ctx().partitions.self(), 7);
    CHECK(g.h.json(R"({"op":"list_groups","id":1})")["groups"].empty());
    CHECK(g.h.ctx().groups->find("g") == nullptr);
    // A member of the old group is not one of the group made afresh.
    CHECK(error_code(g.h.json(member_line("heartbeat", a, gen))) == "UNKNOWN_MEMBER_ID");
    CHECK(error_code(g.h.json(commit_line(a, gen, 5))) == "UNKNOWN_MEMBER_ID");
    g.advance(1);
    auto [b, gen2] = join_alone(g);
    CHECK(b != a);
    CHECK(g.h.json(R"({"op":"list_groups","id":1})")["groups"].size() == 1);
  }

  TEST_CASE("deleting a topic drops the committed offsets of it") {
    Groups g;
    REQUIRE(g.h.json(R"({"op":"create_topic","id":1,"topic":"other","partitions":1})")["ok"] == true);
    REQUIRE(g.h.json(R"({"op":"commit_offsets","id":1,"group":"g","member_id":"","generation":-1,"offsets":[{"topic":"logs","partition":0,"offset":1},{"topic":"other","partition":0,"offset":2}]})")["ok"] == true);
    REQUIRE(g.h.json(R"({"op":"delete_topic","id":1,"topic":"other"})")["ok"] == true);
    json f = g.h.json(R"({"op":"fetch_offsets","id":1,"group":"g"})");
    CHECK(f["offsets"] == json::parse(R"([{"topic":"logs","partition":0,"offset":1,"metadata":""}])"));
    g.lead_offsets(g.partition_of("g"), g.h.ctx().partitions.self(), 3);
    CHECK(g.h.json(R"({"op":"fetch_offsets","id":1,"group":"g"})")["offsets"].size() == 1);
  }

  TEST_CASE("a stopping broker answers parked joins and later group ops NOT_COORDINATOR") {
    Groups g;
    auto [a, gen] = join_alone(g);
    auto pending = g.h.send(join_line(""));
    REQUIRE(pending->replies.empty());
    g.h.ctx().groups->stop();
    CHECK(error_code(reply_json(pending)) == "NOT_COORDINATOR");
    CHECK(error_code(g.h.json(member_line("heartbeat", a, gen))) == "NOT_COORDINATOR");
  }

  TEST_CASE("the broker's session limits and initial rebalance delay apply to joins") {
    BrokerConfig c = group_config();
    c.group_min_session_timeout_ms = 5000;
    c.group_max_session_timeout_ms = 20000;
    c.group_initial_rebalance_delay_ms = 3000;
    Harness h(c);
    int64_t now = 1'000'000;
    h.ctx().groups->set_clock([&now] { return now; });
    REQUIRE(h.json(R"({"op":"create_topic","id":1,"topic":"logs","partitions":2})")["ok"] == true);
    REQUIRE(h.json(R"({"op":"find_coordinator","id":1,"group":"g"})")["ok"] == true);
    json low = h.json(join_line("", "range", 4000));
    CHECK(error_code(low) == "INVALID_REQUEST");
    CHECK(low["error"]["message"].get<std::string>().find("5000") != std::string::npos);
    CHECK(error_code(h.json(join_line("", "range", 30000))) == "INVALID_REQUEST");
    // The first join phase of the empty group waits 3 s for more members.
    auto first = h.send(join_line("", "range", 6000));
    auto second = h.send(join_line("", "range", 6000));
    now += 2999;
    h.ctx().groups->tick();
    CHECK(first->replies.empty());
    now += 1;
    h.ctx().groups->tick();
    json a = reply_json(first), b = reply_json(second);
    CHECK(a["ok"] == true);
    CHECK(b["generation"] == a["generation"]);
  }

  TEST_CASE("a commit that cannot reach min.insync.replicas is refused, not applied") {
    Groups g;
    int32_t p = g.partition_of("g");
    REQUIRE(g.h.json(R"({"op":"alter_topic","id":1,"topic":"__consumer_offsets","config":{"min.insync.replicas":"2"}})")["ok"] == true);
    CHECK(error_code(g.h.json(commit_line("", -1, 3))) == "NOT_ENOUGH_REPLICAS");
    CHECK(g.h.json(R"({"op":"fetch_offsets","id":1,"group":"g"})")["offsets"].empty());
    (void)p;
  }
}

}  // namespace
}  // namespace kreek::broker
