// ktopic's command line: the common flags parse before and after a command,
// and topic names are checked before any broker is asked.
#include "cli/topic_command.h"
#include "cli/topic_more.h"

#include "client/admin.h"

#include <doctest/doctest.h>

#include <string>

using namespace kreek;

namespace {

// Parses `line` as ktopic's arguments; returns the config (throws CLI errors).
cli::TopicConfig parse(const std::string& line) {
  CLI::App app{"ktopic", "ktopic"};
  cli::TopicConfig c;
  cli::add_common_flags(app, c.common);
  cli::add_topic_commands(app, c);
  app.parse(line);
  return c;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("ktopic takes the common flags before or after its command") {
    for (const char* line : {"-b h:1 -v describe orders", "describe orders -b h:1 -v",
                             "describe -b h:1 orders -v", "-v describe --brokers=h:1 orders"}) {
      CAPTURE(line);
      cli::TopicConfig c = parse(line);
      CHECK(c.action == "describe");
      CHECK(c.name == "orders");
      CHECK(c.common.brokers == "h:1");
      CHECK(c.common.verbose);
    }
    cli::TopicConfig c = parse("create logs -p 3 -b h:2 -c retention.ms=1 -q");
    CHECK(c.action == "create");
    CHECK(c.partitions == 3);
    CHECK(c.common.brokers == "h:2");
    CHECK(c.common.quiet);
    CHECK(c.configs.size() == 1);
  }

  TEST_CASE("ktopic rejects a bad topic name and stray words while parsing") {
    CHECK_THROWS_AS(parse("describe bad/name"), CLI::ValidationError);
    CHECK_THROWS_AS(parse("create .."), CLI::ValidationError);
    CHECK_THROWS_AS(parse("list extra"), CLI::ExtrasError);
    CHECK_NOTHROW(parse(std::string("create ") + std::string(249, 'x')));
    CHECK_THROWS(parse(std::string("create ") + std::string(250, 'x')));
  }
  TEST_CASE("create takes -r/--replication-factor, default 1") {
    CHECK(parse("create orders").replication_factor == 1);
    CHECK(parse("create orders -r 3").replication_factor == 3);
    CHECK(parse("create orders --replication-factor 2").replication_factor == 2);
  }

  TEST_CASE("cluster is a command and takes --json") {
    auto c = parse("cluster --json");
    CHECK(c.action == "cluster");
    CHECK(c.json);
  }

  TEST_CASE("the cluster table lists brokers and leaderless partitions") {
    auto d = proto::Json::parse(R"({"cluster_id":"abc","node":1,"brokers":[
        {"node":1,"addr":"127.0.0.1:9092","rack":"","state":"live","leader_of":3},
        {"node":2,"addr":"127.0.0.1:9093","rack":"r2","state":"fenced","leader_of":0}],
        "leaderless_partitions":2})");
    std::string t = cli::cluster_text(d);
    CHECK(t == "cluster abc  (as node 1 sees it)\n"
               "NODE  ADDRESS         RACK  STATE   LEADER-OF\n"
               "1     127.0.0.1:9092  -     live    3\n"
               "2     127.0.0.1:9093  r2    fenced  0\n"
               "leaderless partitions: 2\n");
    d.erase("leaderless_partitions");
    CHECK(cli::cluster_text(d).find("leaderless") == std::string::npos);
  }

  TEST_CASE("describe and cluster text print odd answers instead of throwing") {
    for (const char* odd : {R"({"topic":7,"partitions":[1,"x",null,{"partition":"0","cleaner":5}]})",
                            R"({"topic":null,"partitions":{"0":{}},"config":[1]})", R"({"brokers":"b"})"}) {
      CAPTURE(odd);
      auto d = proto::Json::parse(odd);
      CHECK_NOTHROW(cli::describe_text(d));
      CHECK_NOTHROW(cli::cluster_text(d));
    }
    CHECK(cli::describe_text(proto::Json::parse(R"({"topic":7})")).rfind("topic 7  partitions 0\n", 0) == 0);
  }

  TEST_CASE("metrics text prints odd answers instead of throwing") {
    for (const char* odd : {R"({"metrics":[{"name":7,"type":["histogram"],"samples":[1,"x",null]}]})",
                            R"({"metrics":[{"name":"m","samples":[{"labels":"x","value":"v"}]}]})",
                            R"({"metrics":"none"})", R"({"metrics":[null,3]})"}) {
      CAPTURE(odd);
      CHECK_NOTHROW(cli::metrics_text(proto::Json::parse(odd)));
    }
    CHECK(cli::metrics_text(proto::Json::parse(R"({"metrics":[{"name":"m","samples":[{"value":3}]}]})")) == "m 3\n");
  }

  TEST_CASE("describe takes each leader's log fields and shows - without a leader") {
    auto mine = proto::Json::parse(R"({"topic":"t","partitions":[
        {"partition":0,"leader":1,"log_start":0,"log_end":5,"hw":5,"size":10,"segments":1},
        {"partition":1,"leader":2},
        {"partition":2,"leader":-1}]})");
    auto theirs = proto::Json::parse(R"({"topic":"t","partitions":[
        {"partition":0,"leader":1},
        {"partition":1,"leader":2,"log_start":3,"log_end":7,"hw":7,"size":20,"segments":2},
        {"partition":2,"leader":-1}]})");
    CHECK(client::merge_partition_logs(mine, theirs) == 1);
    CHECK(mine["partitions"][0]["log_end"] == 5);
    CHECK(mine["partitions"][1]["log_end"] == 7);
    CHECK(mine["partitions"][1]["segments"] == 2);
    CHECK_FALSE(mine["partitions"][2].contains("log_end"));
    std::string t = cli::describe_text(mine);
    CHECK(t.find("\n2          -1      -      -         -    -          -        -   -     -\n") != std::string::npos);
  }
}
