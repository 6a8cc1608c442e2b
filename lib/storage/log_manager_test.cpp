// LogManager: topics persist across restarts, deletes are final, the data
// directory is locked, configs are validated, recovery points checkpointed.
#include "storage/log_manager.h"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "storage/descriptor_shortage_test_util.h"
#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

namespace {

namespace fs = std::filesystem;

std::unique_ptr<LogManager> open_manager(const std::string& dir, std::vector<std::string>* reports = nullptr) {
  auto m = LogManager::open(dir, LogConfig(), [reports](std::string_view r) {
    if (reports) reports->emplace_back(r);
  });
  REQUIRE(m);
  return std::move(*m);
}

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("topics, configs and data survive a restart") {
    TempDir t;
    {
      auto m = open_manager(t.path());
      auto info = m->create_topic("orders", 3, {{"retention.ms", "60000"}});
      REQUIRE(info);
      CHECK((*info)->partitions == 3);
      CHECK((*info)->config.retention_ms == 60000);
      REQUIRE(m->create_topic("a-1", 1, {}));
      PartitionLog* log = m->log("orders", PartitionId(2));
      REQUIRE(log != nullptr);
      REQUIRE(append_records(*log, records_of(4), 4));
      CHECK(m->log("orders", PartitionId(3)) == nullptr);
      CHECK(m->logs().size() == 4);
      REQUIRE(m->flush_all());
    }
    CHECK(fs::exists(t.sub("topics/orders.json")));
    CHECK(fs::exists(t.sub("meta.json")));
    CHECK(fs::exists(t.sub("recovery-point-offset-checkpoint")));
    auto m = open_manager(t.path());
    auto names = m->topics();
    REQUIRE(names.size() == 2);
    CHECK(names[0]->name == "a-1");
    CHECK(names[1]->name == "orders");
    const TopicInfo* orders = m->topic("orders");
    REQUIRE(orders);
    CHECK(orders->overrides.at("retention.ms") == "60000");
    CHECK(orders->config.retention_ms == 60000);
    CHECK(orders->created_ms > 0);
    PartitionLog* log = m->log("orders", PartitionId(2));
    REQUIRE(log);
    CHECK(log->log_end() == Offset(4));
    CHECK(log->recovery_point() == Offset(4));
  }

  TEST_CASE("a deleted topic stays deleted, and orphan partition directories are removed") {
    TempDir t;
    {
      auto m = open_manager(t.path());
      REQUIRE(m->create_topic("gone", 2, {}));
      REQUIRE(m->delete_topic("gone"));
      CHECK(m->topic("gone") == nullptr);
      CHECK(m->log("gone", PartitionId(0)) == nullptr);
      CHECK_FALSE(fs::exists(t.sub("gone-0")));
      CHECK(m->delete_topic("gone").code() == Code::kUnknownTopic);
      // A delete interrupted after its json went: the directory lingers.
      REQUIRE(m->create_topic("half", 1, {}));
      fs::remove(t.sub("topics/half.json"));
      fs::create_directories(t.sub("lost+found"));
    }
    std::vector<std::string> reports;
    auto m = open_manager(t.path(), &reports);
    CHECK(m->topics().empty());
    CHECK_FALSE(fs::exists(t.sub("half-0")));
    CHECK(fs::exists(t.sub("lost+found")));  // not ours: left alone
    REQUIRE(reports.size() == 2);
    CHECK(reports[0].find("removed half-0") != std::string::npos);
    CHECK(reports[1].find("leaving 1 entries kreek did not create: lost+found/") != std::string::npos);
    // The name can be used again, starting from an empty log.
    REQUIRE(m->create_topic("gone", 1, {}));
    CHECK(m->log("gone", PartitionId(0))->log_end() == Offset(0));
  }

  TEST_CASE("a data directory cannot be opened twice") {
    TempDir t;
    auto first = open_manager(t.path());
    auto second = LogManager::open(t.path(), LogConfig(), nullptr);
    REQUIRE_FALSE(second);
    CHECK(second.status().code() == Code::kIoError);
    CHECK(second.status().message() == "lock " + t.path() + ": held by another kbroker");
    first.reset();
    CHECK(LogManager::open(t.path(), LogConfig(), nullptr));
  }

  TEST_CASE("bad topic names, counts and configs are rejected") {
    TempDir t;
    auto m = open_manager(t.path());
    CHECK(m->create_topic("bad/name", 1, {}).status().code() == Code::kInvalidRequest);
    CHECK(m->create_topic("..", 1, {}).status().code() == Code::kInvalidRequest);
    CHECK(m->create_topic("t", 0, {}).status().code() == Code::kInvalidRequest);
    CHECK(m->create_topic("t", 10001, {}).status().code() == Code::kInvalidRequest);
    auto bad = m->create_topic("t", 1, {{"retention.ms", "abc"}});
    REQUIRE_FALSE(bad);
    CHECK(bad.status().code() == Code::kInvalidRequest);
    CHECK(bad.status().message() == "retention.ms: \"abc\" is not an integer");
    CHECK(m->topic("t") == nullptr);
    CHECK_FALSE(fs::exists(t.sub("t-0")));
    REQUIRE(m->create_topic("t", 1, {}));
    CHECK(m->create_topic("t", 1, {}).status().code() == Code::kTopicExists);
    // The longest legal name still fits the file system's name limit.
    REQUIRE(m->create_topic(std::string(249, 'n'), 1, {}));
  }

  TEST_CASE("alter_topic sets and removes overrides on live logs and on disk") {
    TempDir t;
    {
      auto m = open_manager(t.path());
      REQUIRE(m->create_topic("t", 2, {{"segment.ms", "5000"}}));
      auto a = m->alter_topic("t", {{"retention.ms", "1000"}, {"segment.ms", ""}});
      REQUIRE(a);
      CHECK((*a)->overrides.count("segment.ms") == 0);
      CHECK((*a)->config.segment_ms == LogConfig().segment_ms);
      CHECK(m->log("t", PartitionId(1))->config().retention_ms == 1000);
      CHECK(m->alter_topic("t", {{"flush.messages", "0"}}).status().code() == Code::kInvalidRequest);
      CHECK(m->alter_topic("nope", {}).status().code() == Code::kUnknownTopic);
    }
    auto m = open_manager(t.path());
    CHECK(m->topic("t")->overrides == std::map<std::string, std::string>{{"retention.ms", "1000"}});
    CHECK(m->log("t", PartitionId(0))->config().retention_ms == 1000);
  }

  TEST_CASE("a checkpointed recovery point skips verifying flushed data at open") {
    TempDir t;
    {
      auto m = open_manager(t.path());
      REQUIRE(m->create_topic("t", 1, {}));
      PartitionLog* log = m->log("t", PartitionId(0));
      for (int i = 0; i < 10; ++i) REQUIRE(append_records(*log, records_of(2), 2));
      REQUIRE(m->flush_all());
      for (int i = 0; i < 5; ++i) REQUIRE(append_records(*log, records_of(2), 2));
      // No flush: the last 10 records are past the recovery point.
    }
    auto m = open_manager(t.path());
    PartitionLog* log = m->log("t", PartitionId(0));
    CHECK(log->recovery_point() == Offset(20));
    CHECK(log->log_end() == Offset(30));
    CHECK(log->unflushed_messages() == 10);
  }

  TEST_CASE("opening 1000 partitions of 10 segments each is fast" * doctest::skip()) {
    TempDir t;
    LogConfig c;
    c.segment_bytes = 1024;
    {
      auto m = LogManager::open(t.path(), c, nullptr);
      REQUIRE(m);
      for (int topic = 0; topic < 10; ++topic) {
        std::string name = "t" + std::to_string(topic);
        REQUIRE((*m)->create_topic(name, 100, {{"segment.bytes", "1024"}}));
        for (int p = 0; p < 100; ++p) {
          PartitionLog* log = (*m)->log(name, PartitionId(p));
          for (int i = 0; i < 10; ++i) {
            auto a = append_records(*log, records_of(10, 60), 10);
            INFO(a.status().to_string());
            REQUIRE(a);
          }
          REQUIRE(log->segment_count() == 10);
        }
      }
      REQUIRE((*m)->flush_all());
    }
    auto start = std::chrono::steady_clock::now();
    auto m = LogManager::open(t.path(), c, nullptr);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    REQUIRE(m);
    MESSAGE("opened 1000 partitions x 10 segments in " << ms << " ms");
    CHECK((*m)->logs().size() == 1000);
    CHECK(ms < 1000);
  }

  TEST_CASE("checkpoint files whose members have the wrong type or no int64 value are ignored, not thrown on") {
    TempDir t;
    { auto m = open_manager(t.path()); REQUIRE(m->create_topic("orders", 1, {})); }
    for (const char* name : {"recovery-point-offset-checkpoint", "replication-offset-checkpoint",
                             "cleaner-offset-checkpoint"}) {
      for (const char* text : {R"({"version":"1","offsets":{}})", R"({"version":[1],"offsets":{"orders-0":"x"}})",
                               R"({"version":1,"offsets":{"orders-0":"x"},"tombstones":7})",
                               R"({"version":1,"offsets":{"orders-0":18446744073709551615}})",
                               R"({"version":1,"offsets":{"orders-0":1e300}})"}) {
        CAPTURE(name);
        CAPTURE(text);
        std::ofstream(t.path() + "/" + name) << text;
        auto m = LogManager::open(t.path(), LogConfig(), [](std::string_view) {});
        CHECK(m.is_ok());
      }
    }
  }

  TEST_CASE("a topic file whose numbers are floats, huge or out of range is refused as corrupt") {
    TempDir t;
    { auto m = open_manager(t.path()); REQUIRE(m->create_topic("orders", 2, {})); }
    std::string good = slurp(t.path() + "/topics/orders.json");
    for (const char* text :
         {R"({"name":"orders","partitions":1.1e70})", R"({"name":"orders","partitions":4294967298})",
          R"({"name":"orders","partitions":18446744073709551615})", R"({"name":"orders","partitions":2.0})",
          R"({"name":"orders","partitions":2,"created_ms":1e300})", R"({"name":"orders","partitions":2,"hosted":[0.5]})",
          R"({"name":"orders","partitions":2,"hosted":[4294967296]})", R"({"name":"orders","partitions":2,"hosted":7})"}) {
      CAPTURE(text);
      spit(t.path() + "/topics/orders.json", text);
      auto m = LogManager::open(t.path(), LogConfig(), [](std::string_view) {});
      REQUIRE(!m.is_ok());
      CHECK(m.status().code() == Code::kCorrupt);
    }
    spit(t.path() + "/topics/orders.json", good);
    auto m = open_manager(t.path());
    REQUIRE(m->topic("orders") != nullptr);
    CHECK(m->topic("orders")->partitions == 2);
  }

  TEST_CASE("new logs made on another thread: the topic is busy until finished, and then whole") {
    TempDir t;  // 200 partitions: 600 descriptors, under a ulimit -n of 1024
    auto m = open_manager(t.path());
    auto job = m->begin_create_topic("wide", 120, {{"retention.ms", "60000"}});
    REQUIRE(job);
    CHECK(m->is_busy("wide"));
    CHECK(m->topic("wide") == nullptr);  // nothing visible before finish
    CHECK(m->create_topic("wide", 1, {}).status().code() == Code::kLeaderNotAvailable);
    CHECK(m->begin_create_topic("wide", 1, {}).status().code() == Code::kLeaderNotAvailable);
    std::thread worker([&] { m->make_new_logs(**job); });
    worker.join();
    CHECK(m->topic("wide") == nullptr);
    auto info = m->finish_new_logs(std::move(*job));
    REQUIRE(info);
    CHECK(!m->is_busy("wide"));
    CHECK((*info)->partitions == 120);
    for (int32_t p = 0; p < 120; ++p) REQUIRE(m->log("wide", PartitionId(p)) != nullptr);
    // The logs joined the manager's descriptor bound, and serve appends.
    CHECK(append_records(*m->log("wide", PartitionId(119)), records_of(3), 3).is_ok());

    // Growing: every other change to the topic waits until the new logs are in.
    auto grow = m->begin_add_partitions("wide", 200);
    REQUIRE(grow);
    CHECK(m->delete_topic("wide").code() == Code::kUnavailable);
    CHECK(m->alter_topic("wide", {{"retention.ms", "1"}}).status().code() == Code::kUnavailable);
    CHECK(m->add_partitions("wide", 300).status().code() == Code::kUnavailable);
    CHECK(m->remove_partition("wide", PartitionId(0)).code() == Code::kUnavailable);
    CHECK(m->topic("wide")->partitions == 120);
    m->make_new_logs(**grow);
    REQUIRE(m->finish_new_logs(std::move(*grow)));
    CHECK(m->topic("wide")->partitions == 200);
    CHECK(m->log("wide", PartitionId(199)) != nullptr);
    REQUIRE(m->delete_topic("wide").is_ok());

    // Reopened: what was finished is there, with its config.
    m.reset();
    m = open_manager(t.path());
    CHECK(m->topic("wide") == nullptr);
  }

  TEST_CASE("new logs that cannot be made leave no topic, no busy mark and no directory of theirs") {
    TempDir t;
    auto m = open_manager(t.path());
    // Somebody else's file where partition 5 would go: not kreek's to remove.
    fs::create_directories(t.path() + "/blocked-5");
    std::ofstream(t.path() + "/blocked-5/notes.txt") << "mine";
    auto job = m->begin_create_topic("blocked", 100, {});
    REQUIRE(job);
    m->make_new_logs(**job);
    auto info = m->finish_new_logs(std::move(*job));
    REQUIRE(!info.is_ok());
    CHECK(info.status().message().find("blocked-5") != std::string::npos);
    CHECK(!m->is_busy("blocked"));
    CHECK(m->topic("blocked") == nullptr);
    CHECK(!fs::exists(t.path() + "/blocked-0"));
    CHECK(fs::exists(t.path() + "/blocked-5/notes.txt"));
  }

  TEST_CASE("new logs that run out of descriptors partway remove every directory they made at once" *
            doctest::skip(kUnderSanitizers)) {
    TempDir t;
    auto m = open_manager(t.path());
    auto job = m->begin_create_topic("many", 100, {});
    REQUIRE(job);
    {
      // Room for the directories (made one at a time) and about ten logs of
      // three descriptors each: the eleventh or so cannot open.
      DescriptorShortage tight(32);
      m->make_new_logs(**job);
    }
    auto info = m->finish_new_logs(std::move(*job));
    REQUIRE(!info.is_ok());
    CHECK(m->topic("many") == nullptr);
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(t.path()))
      if (e.path().filename().string().rfind("many-", 0) == 0) left.push_back(e.path().filename().string());
    CHECK_MESSAGE(left.empty(), left.size(), " partition directories left, the first ", left.empty() ? "" : left[0]);
    // And the name is free for a creation that can succeed.
    CHECK(m->create_topic("many", 100, {}));
  }
}
