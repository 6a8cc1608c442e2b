// Start-up and topic deletion remove only what kreek can prove it created:
// a directory without the data dir marker is refused untouched, unknown
// entries of a data dir are left alone, temp files other than kreek's own
// survive, and a partition directory goes only if its marker names this data
// directory (or, before markers, it holds nothing but segment files).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "storage/log_manager.h"
#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

namespace {

namespace fs = std::filesystem;

void touch_file(const std::string& path, const std::string& text = "mine\n") {
  std::ofstream out(path);
  out << text;
}

Result<std::unique_ptr<LogManager>> open_at(const std::string& dir, std::vector<std::string>* reports) {
  return LogManager::open(dir, LogConfig(), [reports](std::string_view r) {
    if (reports) reports->emplace_back(r);
  });
}

size_t count_entries(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

bool any_report_has(const std::vector<std::string>& reports, std::string_view text) {
  for (const auto& r : reports)
    if (r.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("start-up leaves directories and files of a data dir that kreek did not create") {
    TempDir t;
    {
      auto m = open_at(t.path(), nullptr);
      REQUIRE(m);
      REQUIRE((*m)->create_topic("photos", 1, {}));
    }
    // name-<digits> directories that are not partitions of a live topic.
    fs::create_directories(t.sub("photos-2023/summer"));
    touch_file(t.sub("photos-2023/summer/beach.jpg"));
    fs::create_directories(t.sub("build-1"));
    touch_file(t.sub("build-1/a.o"));
    fs::create_directories(t.sub("empty-7"));
    touch_file(t.sub("draft.tmp"));
    touch_file(t.sub("topics/notes.tmp"));

    std::vector<std::string> reports;
    auto m = open_at(t.path(), &reports);
    REQUIRE(m);
    CHECK(fs::exists(t.sub("photos-2023/summer/beach.jpg")));
    CHECK(fs::exists(t.sub("build-1/a.o")));
    CHECK(fs::exists(t.sub("empty-7")));
    CHECK(fs::exists(t.sub("draft.tmp")));
    CHECK(fs::exists(t.sub("topics/notes.tmp")));
    CHECK(fs::exists(t.sub("photos-0")));
    for (const auto& r : reports) CHECK(r.find("removed") == std::string::npos);
    // Each one is named once, so the operator can see what is lying there.
    CHECK(any_report_has(reports, "photos-2023"));
    CHECK(any_report_has(reports, "build-1"));
  }

  TEST_CASE("a non-empty directory without the data dir marker is refused and left untouched") {
    TempDir t;
    touch_file(t.sub("notes.txt"));
    fs::create_directories(t.sub("build-1"));
    auto m = open_at(t.path(), nullptr);
    REQUIRE_FALSE(m);
    CHECK(m.status().code() == Code::kIoError);
    CHECK(m.status().message().find("not a kreek data directory") != std::string::npos);
    CHECK(m.status().message().find('\n') == std::string::npos);
    CHECK(count_entries(t.path()) == 2);  // no .lock, meta.json or topics/ left behind
    CHECK(fs::exists(t.sub("build-1")));
  }

  TEST_CASE("an empty or missing directory becomes a data dir with a random id") {
    TempDir t;
    std::string ids[2];
    for (int i = 0; i < 2; ++i) {
      std::string dir = t.sub(i == 0 ? "fresh" : "made/deeper");
      if (i == 0) fs::create_directories(dir);
      auto m = open_at(dir, nullptr);
      REQUIRE(m);
      auto j = nlohmann::json::parse(slurp(dir + "/meta.json"));
      CHECK(j["format"] == 1);
      REQUIRE(j["id"].is_string());
      ids[i] = j["id"].get<std::string>();
      CHECK(ids[i].size() == 32);
    }
    CHECK(ids[0] != ids[1]);
  }

  TEST_CASE("a format 1 data dir from before the id keeps working and gets one") {
    TempDir t;
    {
      auto m = open_at(t.path(), nullptr);
      REQUIRE(m);
      REQUIRE((*m)->create_topic("old", 1, {}));
      REQUIRE(append_records(*(*m)->log("old", PartitionId(0)), records_of(3), 3));
      REQUIRE((*m)->flush_all());
    }
    // As an earlier kreek left it: meta.json without id, no partition marker.
    spit(t.sub("meta.json"), "{\"format\":1}\n");
    fs::remove(t.sub("old-0/partition.json"));
    auto m = open_at(t.path(), nullptr);
    REQUIRE(m);
    CHECK((*m)->log("old", PartitionId(0))->log_end() == Offset(3));
    auto j = nlohmann::json::parse(slurp(t.sub("meta.json")));
    CHECK(j["format"] == 1);
    CHECK(j["id"].is_string());
    CHECK(fs::exists(t.sub("old-0/partition.json")));
  }

  TEST_CASE("only kreek's own temp files are removed at start-up") {
    TempDir t;
    { REQUIRE(open_at(t.path(), nullptr)); }
    touch_file(t.sub(".atomic-123-4.tmp"));
    touch_file(t.sub("topics/.atomic-9-0.tmp"));
    touch_file(t.sub(".atomic-x-0.tmp"));
    touch_file(t.sub("draft.tmp"));
    REQUIRE(open_at(t.path(), nullptr));
    CHECK_FALSE(fs::exists(t.sub(".atomic-123-4.tmp")));
    CHECK_FALSE(fs::exists(t.sub("topics/.atomic-9-0.tmp")));
    CHECK(fs::exists(t.sub(".atomic-x-0.tmp")));
    CHECK(fs::exists(t.sub("draft.tmp")));
  }

  TEST_CASE("a partition directory is removed only when proven to be this data dir's") {
    TempDir t;
    {
      auto m = open_at(t.path(), nullptr);
      REQUIRE(m);
      for (const char* name : {"done", "cluttered", "foreign", "legacy"}) {
        REQUIRE((*m)->create_topic(name, 1, {}));
        REQUIRE(append_records(*(*m)->log(name, PartitionId(0)), records_of(2), 2));
      }
      REQUIRE((*m)->flush_all());
    }
    // Deletes cut short after the topic file went (what delete_topic does first).
    for (const char* name : {"done", "cluttered", "foreign", "legacy"})
      fs::remove(t.sub(std::string("topics/") + name + ".json"));
    touch_file(t.sub("cluttered-0/readme.txt"));
    spit(t.sub("foreign-0/partition.json"),
         "{\"data_dir_id\":\"0123456789abcdef0123456789abcdef\",\"partition\":0,\"topic\":\"foreign\"}\n");
    fs::remove(t.sub("legacy-0/partition.json"));  // written by a kreek before markers

    std::vector<std::string> reports;
    auto m = open_at(t.path(), &reports);
    REQUIRE(m);
    CHECK_FALSE(fs::exists(t.sub("done-0")));
    CHECK(any_report_has(reports, "removed done-0"));
    CHECK_FALSE(fs::exists(t.sub("legacy-0")));
    // An entry kreek never writes: its own files go, the stranger and the directory stay.
    CHECK(fs::exists(t.sub("cluttered-0/readme.txt")));
    CHECK(log_files(t.sub("cluttered-0")).empty());
    CHECK(any_report_has(reports, "cluttered-0"));
    // Another data directory's partition, copied in by hand: not touched.
    CHECK(log_files(t.sub("foreign-0")).size() == 1);

    SUBCASE("creating a topic over a directory that is not kreek's is refused") {
      auto r = (*m)->create_topic("foreign", 1, {});
      REQUIRE_FALSE(r);
      CHECK(r.status().code() == Code::kIoError);
      CHECK(log_files(t.sub("foreign-0")).size() == 1);
      // An empty directory holds nothing to lose: it is used as it is.
      fs::create_directories(t.sub("blank-0"));
      CHECK((*m)->create_topic("blank", 1, {}));
    }
    SUBCASE("deleting a topic leaves entries kreek did not write") {
      REQUIRE((*m)->create_topic("live", 1, {}));
      touch_file(t.sub("live-0/keep.txt"));
      CHECK((*m)->delete_topic("live"));
      CHECK(fs::exists(t.sub("live-0/keep.txt")));
      CHECK(log_files(t.sub("live-0")).empty());
    }
  }

  TEST_CASE("a marker cut short by a crash proves a directory ours only while it holds nothing") {
    TempDir t;
    {
      auto m = open_at(t.path(), nullptr);
      REQUIRE(m);
      REQUIRE((*m)->create_topic("unwritten", 1, {}));  // what a crash before any append leaves
      REQUIRE((*m)->create_topic("written", 1, {}));
      REQUIRE(append_records(*(*m)->log("written", PartitionId(0)), records_of(2), 2));
      REQUIRE((*m)->flush_all());
    }
    // The topic files never reached the disk, and the markers were cut short.
    for (const char* name : {"unwritten", "written"}) {
      fs::remove(t.sub(std::string("topics/") + name + ".json"));
      spit(t.sub(std::string(name) + "-0/partition.json"), "{\"data_dir_id\":\"01");
    }
    std::vector<std::string> reports;
    auto m = open_at(t.path(), &reports);
    REQUIRE(m);
    CHECK_FALSE(fs::exists(t.sub("unwritten-0")));
    // Records are there: not proven ours, so left where they are, and named.
    CHECK(log_files(t.sub("written-0")).size() == 1);
    CHECK(any_report_has(reports, "partition.json is unreadable and it holds data"));
    // A new topic of the first name is created over nothing; the second is refused.
    CHECK((*m)->create_topic("unwritten", 1, {}));
    CHECK_FALSE((*m)->create_topic("written", 1, {}));
  }
}
