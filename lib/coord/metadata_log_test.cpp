// The metadata log on disk: round trip, torn tails, damage, snapshots, and
// the crash windows of a snapshot.
#include "coord/metadata_log.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/atomic_file.h"
#include "coord/coord_test_util.h"

namespace kreek::coord {
namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/kreek-metalog.XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void spit(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

// Decides a small history and returns its records in order.
std::vector<Record> history() {
  MetadataImage img;
  Controller ctl;
  std::vector<Record> out;
  auto take = [&](std::vector<Record> rs) {
    for (auto& r : rs) {
      REQUIRE(img.apply(img.next_offset(), r).is_ok());
      out.push_back(std::move(r));
    }
  };
  take(ctl.init_cluster(img, "cluster-1"));
  for (int n = 0; n < 3; ++n) {
    take(*ctl.register_broker(img, RegisterBroker{NodeId(n), "i", "d" + std::to_string(n), "h", "r"}));
    take(ctl.heartbeat(img, HeartbeatRequest{NodeId(n), img.next_offset() - 1, img.next_offset() - 1})->records);
  }
  take(*ctl.create_topic(img, CreateTopicRequest{"orders", "id-1", 3, 2, {{"retention.ms", "1000"}}, {}}));
  take(ctl.fence(img, NodeId(1)));
  take(ctl.allocate_producer_ids(img, 10));
  return out;
}

MetadataImage image_of(const std::vector<Record>& records, size_t n) {
  MetadataImage img;
  for (size_t i = 0; i < n; ++i) REQUIRE(img.apply(static_cast<int64_t>(i), records[i]).is_ok());
  return img;
}

TEST_SUITE("coord") {
  TEST_CASE("every record type survives JSON") {
    std::vector<Record> all{
        RegisterBroker{NodeId(1), "inc", "dir", "127.0.0.1:9093", "rack-a"},
        UnfenceBroker{NodeId(1), 4},
        FenceBroker{NodeId(1), 4},
        BeginShutdown{NodeId(2), 9},
        CreateTopic{"t", "id", {{"k", "v"}}, {PartitionAssignment{{NodeId(1), NodeId(2)}, NodeId(1), {NodeId(1)}}}},
        DeleteTopic{"t", "id"},
        AlterTopicConfig{"t", {{"a", "b"}}},
        CreatePartitions{"t", {PartitionAssignment{{NodeId(2)}, kNoLeader, {NodeId(2)}}}},
        PartitionChange{"t", 1, {NodeId(1), NodeId(2)}, NodeId(2), LeaderEpoch(3), {NodeId(2)}, 7, {}, {}},
        AllocateProducerIds{100, 50},
        InitCluster{"c0ffee"},
    };
    for (const Record& r : all) {
      auto back = record_from_json(to_json(r));
      REQUIRE(back.is_ok());
      CHECK(to_json(*back) == to_json(r));
    }
  }

  TEST_CASE("records from outside are checked field by field") {
    using nlohmann::json;
    CHECK(record_from_json(json::parse(R"({"type":"nope"})")).status().code() == Code::kCorrupt);
    CHECK(record_from_json(json::parse(R"([1])")).status().code() == Code::kCorrupt);
    auto r = record_from_json(json::parse(R"({"type":"fence_broker","node":"1","broker_epoch":2})"));
    CHECK(r.status().message() == "metadata record fence_broker: \"node\" is not an integer");
    r = record_from_json(json::parse(
        R"({"type":"partition_change","topic":"t","partition":0,"replicas":[1e300],"leader":1,"leader_epoch":0,"isr":[1],"partition_epoch":1})"));
    CHECK(r.status().code() == Code::kCorrupt);
    r = record_from_json(json::parse(R"({"type":"unfence_broker","node":1,"broker_epoch":18446744073709551615})"));
    CHECK(r.status().code() == Code::kCorrupt);
  }

  TEST_CASE("a log reopens to the same image, and an empty directory to the empty one") {
    TempDir d;
    auto records = history();
    {
      auto log = MetadataLog::open(d.path);
      REQUIRE(log.is_ok());
      CHECK((*log)->next_offset() == 0);
      REQUIRE((*log)->append(0, {records.begin(), records.begin() + 3}).is_ok());
      REQUIRE((*log)->append(3, {records.begin() + 3, records.end()}).is_ok());
      CHECK((*log)->append(3, records).code() == Code::kInternal);  // wrong offset
    }
    auto log = MetadataLog::open(d.path);
    REQUIRE(log.is_ok());
    CHECK((*log)->next_offset() == static_cast<int64_t>(records.size()));
    CHECK((*log)->image().to_json() == image_of(records, records.size()).to_json());
    CHECK((*log)->tail().size() == records.size());
  }

  TEST_CASE("a second opener of the same directory is refused") {
    TempDir d;
    auto a = MetadataLog::open(d.path);
    REQUIRE(a.is_ok());
    auto b = MetadataLog::open(d.path);
    CHECK(b.status().code() == Code::kIoError);
  }

  TEST_CASE("a torn tail is cut back to the last whole record") {
    auto records = history();
    std::string full;
    for (size_t i = 0; i < records.size(); ++i) full += encode_log_line(static_cast<int64_t>(i), records[i]);
    size_t last_start = full.rfind('\n', full.size() - 2) + 1;
    SUBCASE("partial last line") {
      for (size_t cut : {last_start + 1, full.size() - 1}) {
        TempDir d;
        spit(d.path + "/metadata.log", full.substr(0, cut));
        std::string reported;
        auto log = MetadataLog::open(d.path, [&](std::string_view m) { reported += m; });
        REQUIRE(log.is_ok());
        CHECK((*log)->next_offset() == static_cast<int64_t>(records.size() - 1));
        CHECK(reported.find("torn tail") != std::string::npos);
        CHECK(slurp(d.path + "/metadata.log") == full.substr(0, last_start));
        // And appending goes on from there.
        REQUIRE((*log)->append((*log)->next_offset(), {records.back()}).is_ok());
      }
    }
    SUBCASE("a flipped byte in the last line") {
      TempDir d;
      std::string bad = full;
      bad[full.size() - 5] ^= 0x01;
      spit(d.path + "/metadata.log", bad);
      auto log = MetadataLog::open(d.path);
      REQUIRE(log.is_ok());
      CHECK((*log)->next_offset() == static_cast<int64_t>(records.size() - 1));
    }
  }

  TEST_CASE("damage followed by good records refuses to open") {
    auto records = history();
    std::string full;
    for (size_t i = 0; i < records.size(); ++i) full += encode_log_line(static_cast<int64_t>(i), records[i]);
    full[40] ^= 0x01;  // inside the first line
    TempDir d;
    spit(d.path + "/metadata.log", full);
    auto log = MetadataLog::open(d.path);
    REQUIRE(!log.is_ok());
    CHECK(log.status().code() == Code::kCorrupt);
    CHECK(log.status().message().find("damaged before offset 1") != std::string::npos);
  }

  TEST_CASE("snapshot plus tail replays to the same image as the whole log") {
    TempDir d;
    auto records = history();
    size_t half = records.size() / 2;
    {
      auto log = MetadataLog::open(d.path);
      REQUIRE(log.is_ok());
      REQUIRE((*log)->append(0, {records.begin(), records.begin() + half}).is_ok());
      REQUIRE((*log)->write_snapshot(image_of(records, half)).is_ok());
      REQUIRE((*log)->append(half, {records.begin() + half, records.end()}).is_ok());
    }
    auto log = MetadataLog::open(d.path);
    REQUIRE(log.is_ok());
    CHECK((*log)->snapshot_offset() == static_cast<int64_t>(half));
    CHECK((*log)->tail().size() == records.size() - half);
    CHECK((*log)->image().to_json() == image_of(records, records.size()).to_json());
  }

  TEST_CASE("a snapshot whose numbers are floats, negative or wrap is refused as corrupt") {
    auto records = history();
    nlohmann::json good = image_of(records, records.size()).to_json();
    REQUIRE(MetadataImage::from_json(good).is_ok());
    auto with = [&](auto change) {
      nlohmann::json j = good;
      change(j);
      return MetadataImage::from_json(j).status().code();
    };
    const nlohmann::json wraps_to_minus_one = 18446744073709551615ull;
    CHECK(with([&](nlohmann::json& j) { j["next_producer_id"] = wraps_to_minus_one; }) == Code::kCorrupt);
    CHECK(with([](nlohmann::json& j) { j["next_producer_id"] = -5; }) == Code::kCorrupt);
    CHECK(with([](nlohmann::json& j) { j["next_offset"] = 1.5; }) == Code::kCorrupt);
    CHECK(with([&](nlohmann::json& j) { j["brokers"][0]["broker_epoch"] = wraps_to_minus_one; }) == Code::kCorrupt);
    CHECK(with([](nlohmann::json& j) { j["brokers"][0]["state_offset"] = 1e300; }) == Code::kCorrupt);
    CHECK(with([](nlohmann::json& j) { j["topics"][0]["partitions"][0]["leader_epoch"] = 4294967301ll; }) ==
          Code::kCorrupt);  // would wrap to epoch 5
    CHECK(with([](nlohmann::json& j) { j["topics"][0]["partitions"][0]["partition_epoch"] = -1; }) ==
          Code::kCorrupt);
  }

  TEST_CASE("a crash between writing a snapshot and restarting the log loses nothing") {
    TempDir d;
    auto records = history();
    std::string full;
    for (size_t i = 0; i < records.size(); ++i) full += encode_log_line(static_cast<int64_t>(i), records[i]);
    spit(d.path + "/metadata.log", full);
    size_t half = records.size() / 2;
    nlohmann::json doc = {{"format", 1}, {"image", image_of(records, half).to_json()}};
    char name[64];
    std::snprintf(name, sizeof name, "/snapshot-%020zu.json", half);
    REQUIRE(write_file_atomically(d.path + name, doc.dump()).is_ok());
    auto log = MetadataLog::open(d.path);
    REQUIRE(log.is_ok());
    CHECK((*log)->image().to_json() == image_of(records, records.size()).to_json());
  }

  TEST_CASE("an unreadable newest snapshot falls back to an older one only if the log still reaches it") {
    TempDir d;
    auto records = history();
    std::string full;
    for (size_t i = 0; i < records.size(); ++i) full += encode_log_line(static_cast<int64_t>(i), records[i]);
    spit(d.path + "/metadata.log", full);
    spit(d.path + "/snapshot-00000000000000000002.json", "{\"format\":1,\"image\":");
    std::string reported;
    auto log = MetadataLog::open(d.path, [&](std::string_view m) { reported += m; });
    REQUIRE(log.is_ok());
    CHECK(reported.find("unreadable snapshot") != std::string::npos);
    CHECK((*log)->image().to_json() == image_of(records, records.size()).to_json());
  }
}

}  // namespace
}  // namespace kreek::coord
