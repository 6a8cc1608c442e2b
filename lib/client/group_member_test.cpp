// The group client against fake brokers: coordinator discovery and its
// retries, the parked join polled without blocking, a join resent after the
// coordinator moved, heartbeat answers, and the cooperative rebalance (keep
// reading while the join is parked; commit and drop revoked partitions after
// sync; rejoin at once for KIP-429's second round).
#include "client/group_member.h"

#include <doctest/doctest.h>
#include <poll.h>

#include "client/group_consumer.h"
#include "client/fake_broker_test.h"
#include "client/interrupt.h"

using namespace kreek;
using namespace kreek::client;
using namespace kreek::client::testing;

namespace {

// The next request line the client wrote to `fake` (waits up to a second).
proto::Json next_request(FakeBroker& fake) {
  std::string line;
  char ch = 0;
  for (;;) {
    pollfd p{fake.broker_fd(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 1000) == 1);
    REQUIRE(::read(fake.broker_fd(), &ch, 1) == 1);
    if (ch == '\n') break;
    line += ch;
  }
  return proto::Json::parse(line);
}

std::string answer(const proto::Json& req, proto::Json body) {
  body["id"] = req["id"];
  body["ok"] = true;
  return body.dump();
}
std::string error_answer(const proto::Json& req, const char* code) {
  proto::Json j = {{"id", req["id"]}, {"ok", false}, {"error", {{"code", code}, {"message", "no"}}}};
  return j.dump();
}

// A cluster on `boot` plus coordinators handed out in turn by `dial`.
struct Rig {
  FakeBroker boot;
  FakeBroker coord1, coord2;
  std::unique_ptr<Cluster> cluster = fake_cluster(boot);
  int dialled = 0;
  GroupMemberOptions options() {
    GroupMemberOptions o;
    o.group = std::string("g");  // (GCC 12 warns falsely, -Wrestrict, on assigning a short literal)
    o.topics = {"t"};
    o.retry_for_ms = 2000;
    o.dial = [this](const std::string& addr) -> Result<std::unique_ptr<BrokerConnection>> {
      ++dialled;
      if (addr == "fake:2") return coord1.client_end();
      if (addr == "fake:3") return coord2.client_end();
      return Status(Code::kUnavailable, "cannot connect to " + addr + ": Connection refused");
    };
    return o;
  }
};

}  // namespace

TEST_SUITE("client") {
  TEST_CASE("heartbeats go every session/3, at most every second") {
    CHECK(heartbeat_interval_ms(10000) == 1000);
    CHECK(heartbeat_interval_ms(1500) == 500);
    CHECK(heartbeat_interval_ms(1) == 1);
  }

  TEST_CASE("assignments and offsets parse, and malformed ones are protocol errors") {
    auto a = parse_assignment(proto::Json::parse(R"([{"topic":"logs","partitions":[3,0]},{"topic":"a","partitions":[1]}])"), "x");
    REQUIRE(a.is_ok());
    CHECK(partitions_text(*a) == "a/1 logs/0,3");
    CHECK(assignment_json(*a).dump() == R"([{"topic":"a","partitions":[1]},{"topic":"logs","partitions":[0,3]}])");
    CHECK(parse_assignment(proto::Json::parse(R"([{"topic":"logs","partitions":[-1]}])"), "x").status().code() == Code::kProtocol);
    CHECK(parse_assignment(proto::Json::parse(R"({"topic":"logs"})"), "x").status().code() == Code::kProtocol);
    auto o = parse_offsets(proto::Json::parse(R"([{"topic":"logs","partition":2,"offset":120,"metadata":"m"}])"), "x");
    REQUIRE(o.is_ok());
    CHECK(o->at(TopicPartition{"logs", 2}).offset == 120);
    CHECK(parse_offsets(proto::Json::parse(R"([{"topic":"logs","partition":2,"offset":"x"}])"), "x").status().code() == Code::kProtocol);
  }

  TEST_CASE("find_coordinator retries COORDINATOR_NOT_AVAILABLE and connects to the answer") {
    Rig rig;
    // cluster.call does not match ids; the replies are read in order.
    rig.boot.say(R"({"id":1,"ok":false,"error":{"code":"COORDINATOR_NOT_AVAILABLE","message":"loading"}})");
    rig.boot.say(R"({"id":2,"ok":false,"error":{"code":"COORDINATOR_LOAD_IN_PROGRESS","message":"loading"}})");
    rig.boot.say(R"({"id":3,"ok":true,"node":2,"addr":"fake:2","partition":7})");
    std::string told;
    auto o = rig.options();
    o.on_notice = [&](const std::string& m) { told = m; };
    GroupMember m(*rig.cluster, o);
    REQUIRE(m.find_coordinator().is_ok());
    CHECK(m.coordinator() == "fake:2");
    CHECK(told == "group g: coordinator is node 2 (fake:2)");
    for (int i = 0; i < 3; ++i) CHECK(next_request(rig.boot)["op"] == "find_coordinator");
  }

  TEST_CASE("a group error that is not about the coordinator is not retried") {
    Rig rig;
    rig.boot.say(R"({"id":1,"ok":false,"error":{"code":"INVALID_REQUEST","message":"bad group name"}})");
    GroupMember m(*rig.cluster, rig.options());
    CHECK(m.find_coordinator().code() == Code::kInvalidRequest);
  }

  TEST_CASE("a parked join is polled without blocking and its answer sets member and generation") {
    Rig rig;
    rig.boot.say(R"({"id":1,"ok":true,"node":2,"addr":"fake:2","partition":0})");
    auto o = rig.options();
    o.instance_id = "w1";
    GroupMember m(*rig.cluster, o);
    REQUIRE(m.find_coordinator().is_ok());
    PartitionSet owned{{"t", 0}, {"t", 2}};
    REQUIRE(m.send_join(owned).is_ok());
    auto req = next_request(rig.coord1);
    CHECK(req["op"] == "join_group");
    CHECK(req["member_id"] == "");
    CHECK(req["instance_id"] == "w1");
    CHECK(req["assignors"].dump() == R"(["cooperative-sticky"])");
    CHECK(req["owned"].dump() == R"([{"topic":"t","partitions":[0,2]}])");
    auto r = m.poll_join();
    REQUIRE(r.is_ok());
    CHECK_FALSE(*r);
    CHECK(m.join_pending());
    // An answer to something else first is skipped.
    rig.coord1.say(R"({"id":999,"ok":true})");
    rig.coord1.say(answer(req, {{"generation", 4}, {"member_id", "kconsume-00"}, {"assignor", "range"}}));
    r = m.poll_join();
    REQUIRE(r.is_ok());
    CHECK(*r);
    CHECK_FALSE(m.join_pending());
    CHECK(m.generation() == 4);
    CHECK(m.member_id() == "kconsume-00");
    CHECK(m.assignor() == "range");
  }

  TEST_CASE("a join answered NOT_COORDINATOR is sent again to the new coordinator") {
    Rig rig;
    rig.boot.say(R"({"id":1,"ok":true,"node":2,"addr":"fake:2","partition":0})");
    rig.boot.say(R"({"id":2,"ok":true,"node":3,"addr":"fake:3","partition":0})");
    GroupMember m(*rig.cluster, rig.options());
    REQUIRE(m.send_join({}).is_ok());
    auto first = next_request(rig.coord1);
    rig.coord1.say(error_answer(first, "NOT_COORDINATOR"));
    auto r = m.poll_join();
    REQUIRE(r.is_ok());
    CHECK_FALSE(*r);
    CHECK(m.coordinator() == "fake:3");
    auto again = next_request(rig.coord2);
    CHECK(again["op"] == "join_group");
    rig.coord2.say(answer(again, {{"generation", 1}, {"member_id", "m-1"}, {"assignor", "cooperative-sticky"}}));
    r = m.poll_join();
    REQUIRE(r.is_ok());
    CHECK(*r);
    CHECK(m.generation() == 1);
  }

  TEST_CASE("a coordinator connection that closes is found again and the join resent") {
    Rig rig;
    rig.boot.say(R"({"id":1,"ok":true,"node":2,"addr":"fake:2","partition":0})");
    rig.boot.say(R"({"id":2,"ok":true,"node":3,"addr":"fake:3","partition":0})");
    GroupMember m(*rig.cluster, rig.options());
    REQUIRE(m.send_join({}).is_ok());
    (void)next_request(rig.coord1);
    rig.coord1.hang_up();
    auto r = m.poll_join();
    REQUIRE(r.is_ok());
    CHECK_FALSE(*r);
    auto again = next_request(rig.coord2);
    CHECK(again["op"] == "join_group");
  }

  TEST_CASE("heartbeat answers come back as the group's status") {
    Rig rig;
    rig.boot.say(R"({"id":1,"ok":true,"node":2,"addr":"fake:2","partition":0})");
    GroupMember m(*rig.cluster, rig.options());
    REQUIRE(m.find_coordinator().is_ok());
    // Ids are the cluster's: find_coordinator took 1, so the heartbeat is 2.
    rig.coord1.say(R"({"id":2,"ok":false,"error":{"code":"REBALANCE_IN_PROGRESS","message":"rejoin"}})");
    CHECK(m.heartbeat().code() == Code::kRebalanceInProgress);
    auto req = next_request(rig.coord1);
    CHECK(req["op"] == "heartbeat");
    CHECK(req["generation"] == -1);
  }

  TEST_CASE("cooperative rebalance: reading goes on while the join is parked; revoked partitions are committed, dropped and a second join follows") {
    Rig rig;
    // Start: find_coordinator (1), join (2), sync (3), fetch_offsets (4),
    // metadata (5) and list_offsets (6) on the bootstrap connection.
    rig.boot.say(R"({"id":1,"ok":true,"node":2,"addr":"fake:2","partition":0})");
    rig.coord1.say(R"({"id":2,"ok":true,"generation":1,"member_id":"m-1","assignor":"cooperative-sticky"})");
    rig.coord1.say(R"({"id":3,"ok":true,"generation":1,"assignment":[{"topic":"t","partitions":[0]}]})");
    rig.coord1.say(R"({"id":4,"ok":true,"offsets":[{"topic":"t","partition":0,"offset":5,"metadata":""}]})");
    rig.boot.say(kFakeMetadata);
    rig.boot.say(R"({"id":6,"ok":true,"partitions":[{"partition":0,"offset":10,"log_start":0,"log_end":10}]})");
    ConsumerOptions co;
    co.topic = "t";
    Consumer consumer(*rig.cluster, co);
    GroupConsumerOptions go;
    go.member = rig.options();
    go.member.session_timeout_ms = 3;  // a heartbeat is due at every poll
    go.follow = true;
    go.commit_interval_ms = 1'000'000;
    int flushes = 0;
    go.flush = [&] {
      ++flushes;
      return Status::ok();
    };
    GroupConsumer gc(*rig.cluster, consumer, go);
    REQUIRE(gc.start().is_ok());
    REQUIRE(consumer.cursors().size() == 1);
    CHECK(consumer.cursors()[0].topic == "t");
    CHECK(consumer.cursors()[0].next == 5);  // the committed offset
    CHECK(consumer.cursors()[0].stop == -1);
    for (const char* op : {"join_group", "sync_group", "fetch_offsets"}) CHECK(next_request(rig.coord1)["op"] == op);

    // Pretend records 5..8 were read and written.
    std::vector<Cursor> moved = consumer.cursors();
    moved[0].next = 9;
    consumer.assign(moved);

    // The heartbeat (7) says rebalance: the join goes out, reading goes on.
    rig.coord1.say(R"({"id":7,"ok":false,"error":{"code":"REBALANCE_IN_PROGRESS","message":"rejoin"}})");
    // The fetch after it (8) on the bootstrap connection: nothing new.
    rig.boot.say(R"({"id":8,"ok":true,"parts":[{"topic":"t","partition":0,"hw":9,"log_start":0,"bytes":0}]})");
    struct Null : RecordSink {
      bool on_record(const ConsumedRecord&) override { return true; }
    } sink;
    bool stopped = false;
    ::poll(nullptr, 0, 5);
    REQUIRE(gc.poll(sink, stopped).is_ok());
    CHECK(gc.member().join_pending());
    CHECK(gc.assignment().size() == 1);
    CHECK(next_request(rig.coord1)["op"] == "heartbeat");
    auto join = next_request(rig.coord1);
    CHECK(join["op"] == "join_group");
    CHECK(join["member_id"] == "m-1");
    CHECK(join["owned"].dump() == R"([{"topic":"t","partitions":[0]}])");
    CHECK(next_request(rig.boot)["op"] == "find_coordinator");
    CHECK(next_request(rig.boot)["op"] == "metadata");
    CHECK(next_request(rig.boot)["op"] == "list_offsets");
    CHECK(next_request(rig.boot)["op"] == "fetch");

    // The join's answer (generation 2), then sync takes t/0 away: it is
    // committed at 9 and dropped, and the second join goes out at once.
    int64_t id = join["id"].get<int64_t>();
    rig.coord1.say(answer(join, {{"generation", 2}, {"member_id", "m-1"}, {"assignor", "cooperative-sticky"}}));
    rig.coord1.say(proto::Json({{"id", id + 2}, {"ok", true}, {"generation", 2}, {"assignment", proto::Json::array()}}).dump());
    rig.coord1.say(proto::Json({{"id", id + 3}, {"ok", true}}).dump());
    const int before = flushes;
    REQUIRE(gc.poll(sink, stopped).is_ok());
    CHECK(gc.assignment().empty());
    CHECK(consumer.cursors().empty());
    CHECK(flushes > before);
    CHECK(next_request(rig.coord1)["op"] == "sync_group");
    auto commit = next_request(rig.coord1);
    CHECK(commit["op"] == "commit_offsets");
    CHECK(commit["generation"] == 2);
    CHECK(commit["offsets"].dump() == R"([{"topic":"t","partition":0,"offset":9,"metadata":""}])");
    auto second = next_request(rig.coord1);
    CHECK(second["op"] == "join_group");
    CHECK_FALSE(second.contains("owned"));
    CHECK(gc.member().join_pending());
  }

  TEST_CASE("eager rebalance: what was written is committed, every partition dropped, and reading resumes from the committed offsets") {
    Rig rig;
    rig.boot.say(R"({"id":1,"ok":true,"node":2,"addr":"fake:2","partition":0})");
    rig.coord1.say(R"({"id":2,"ok":true,"generation":1,"member_id":"m-1","assignor":"range"})");
    rig.coord1.say(R"({"id":3,"ok":true,"generation":1,"assignment":[{"topic":"t","partitions":[0]}]})");
    rig.coord1.say(R"({"id":4,"ok":true,"offsets":[]})");
    rig.boot.say(kFakeMetadata);
    rig.boot.say(R"({"id":6,"ok":true,"partitions":[{"partition":0,"offset":10,"log_start":2,"log_end":10}]})");
    ConsumerOptions co;
    co.topic = "t";
    Consumer consumer(*rig.cluster, co);
    GroupConsumerOptions go;
    go.member = rig.options();
    go.member.assignor = "range";
    go.member.session_timeout_ms = 3;
    go.follow = false;  // bounded: stop at the high watermark when assigned
    go.commit_interval_ms = 1'000'000;
    GroupConsumer gc(*rig.cluster, consumer, go);
    REQUIRE(gc.start().is_ok());
    REQUIRE(consumer.cursors().size() == 1);
    CHECK(consumer.cursors()[0].next == 2);  // no committed offset: the log start
    CHECK(consumer.cursors()[0].stop == 10);
    std::vector<Cursor> moved = consumer.cursors();
    moved[0].next = 7;
    consumer.assign(moved);

    rig.coord1.say(R"({"id":7,"ok":false,"error":{"code":"REBALANCE_IN_PROGRESS","message":"rejoin"}})");
    rig.coord1.say(R"({"id":8,"ok":true})");
    rig.coord1.say(R"({"id":9,"ok":true,"generation":2,"member_id":"m-1","assignor":"range"})");
    rig.coord1.say(R"({"id":10,"ok":true,"generation":2,"assignment":[{"topic":"t","partitions":[0]}]})");
    rig.coord1.say(R"({"id":11,"ok":true,"offsets":[{"topic":"t","partition":0,"offset":7,"metadata":""}]})");
    rig.boot.say(R"({"id":12,"ok":true,"partitions":[{"partition":0,"offset":12,"log_start":2,"log_end":12}]})");
    rig.boot.say(R"({"id":13,"ok":true,"parts":[{"topic":"t","partition":0,"hw":7,"log_start":2,"bytes":0}]})");
    struct Null : RecordSink {
      bool on_record(const ConsumedRecord&) override { return true; }
    } sink;
    bool stopped = false;
    ::poll(nullptr, 0, 5);
    REQUIRE(gc.poll(sink, stopped).is_ok());
    for (const char* op : {"join_group", "sync_group", "fetch_offsets", "heartbeat"}) CHECK(next_request(rig.coord1)["op"] == op);
    auto commit = next_request(rig.coord1);
    CHECK(commit["op"] == "commit_offsets");
    CHECK(commit["generation"] == 1);  // before the join: the old generation still commits
    CHECK(commit["offsets"].dump() == R"([{"topic":"t","partition":0,"offset":7,"metadata":""}])");
    auto join = next_request(rig.coord1);
    CHECK(join["op"] == "join_group");
    CHECK_FALSE(join.contains("owned"));  // eager: everything was given up
    CHECK(gc.member().generation() == 2);
    REQUIRE(consumer.cursors().size() == 1);
    CHECK(consumer.cursors()[0].next == 7);   // the committed offset
    CHECK(consumer.cursors()[0].stop == 12);  // the high watermark when assigned again
    CHECK_FALSE(gc.all_done());
  }

  TEST_CASE("a join interrupted by a stop request is abandoned: the leave goes out at once on a new connection") {
    Rig rig;
    rig.boot.say(R"({"id":1,"ok":true,"node":2,"addr":"fake:2","partition":0})");
    rig.coord1.say(R"({"id":2,"ok":true,"generation":1,"member_id":"m-1","assignor":"range"})");
    GroupMember m(*rig.cluster, rig.options());
    REQUIRE(m.join({}).is_ok());
    CHECK(next_request(rig.coord1)["op"] == "join_group");
    // A rebalance: the join (3) parks, and SIGINT ends the wait for it.
    request_stop();
    CHECK(m.join({}).message() == "interrupted");
    CHECK(next_request(rig.coord1)["op"] == "join_group");
    CHECK_FALSE(m.join_pending());
    // The broker would hold a leave sent behind the parked join until the
    // join phase ends; it goes on a new connection instead.
    rig.boot.say(R"({"id":4,"ok":true,"node":3,"addr":"fake:3","partition":0})");
    rig.coord2.say(R"({"id":5,"ok":true})");
    Status left = m.leave();
    clear_stop();
    CHECK(left.is_ok());
    CHECK(next_request(rig.coord2)["op"] == "leave_group");
    // The old connection was closed with nothing more written behind the join.
    char ch = 0;
    CHECK(::read(rig.coord1.broker_fd(), &ch, 1) == 0);
  }
}
