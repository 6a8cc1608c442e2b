// The --follow state file: round trip, atomic save and load, and the leveldb
// set of damaged inputs (empty, truncated, flipped byte, unknown version).
#include "cli/follow_state.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

using namespace kreek;

namespace {

cli::FollowState sample() {
  cli::FollowState st;
  st.topic = "logs";
  st.files.push_back({2049, 131, "/var/log/app.log", 4096, 80});
  st.files.push_back({2049, 77, "/var/log/app.log.1", 0, 0});
  return st;
}

Status decode(const std::string& text) { return cli::decode_follow_state(text, "s.json").status(); }

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("a follow state round trips through its encoding") {
    cli::FollowState st = sample();
    std::string text = cli::encode_follow_state(st);
    CHECK(text ==
          "{\"version\":1,\"topic\":\"logs\",\"seq\":0,\"files\":[{\"dev\":2049,\"ino\":131,\"path\":\"/var/log/app.log\","
          "\"pos\":4096,\"line\":80},{\"dev\":2049,\"ino\":77,\"path\":\"/var/log/app.log.1\",\"pos\":0,"
          "\"line\":0}]}\n");
    auto back = cli::decode_follow_state(text, "s.json");
    REQUIRE(back.is_ok());
    CHECK(back->topic == "logs");
    REQUIRE(back->files.size() == 2);
    CHECK(back->files[0].ino == 131);
    CHECK(back->files[0].pos == 4096);
    CHECK(back->files[0].line == 80);
    CHECK(back->find(2049, 77) != nullptr);
    CHECK(back->find(2050, 77) == nullptr);
  }

  TEST_CASE("an empty follow state round trips") {
    cli::FollowState st;
    st.topic = "t";
    auto back = cli::decode_follow_state(cli::encode_follow_state(st), "s.json");
    REQUIRE(back.is_ok());
    CHECK(back->files.empty());
  }

  TEST_CASE("a damaged follow state is refused as corrupt, naming the file") {
    std::string good = cli::encode_follow_state(sample());
    SUBCASE("empty") { CHECK(decode("").code() == Code::kCorrupt); }
    SUBCASE("truncated") { CHECK(decode(good.substr(0, good.size() / 2)).code() == Code::kCorrupt); }
    SUBCASE("flipped byte") {
      std::string bad = good;
      bad[bad.find("4096")] = 'x';
      CHECK(decode(bad).code() == Code::kCorrupt);
    }
    SUBCASE("unknown version") {
      Status s = decode("{\"version\":2,\"topic\":\"t\",\"files\":[]}");
      CHECK(s.code() == Code::kCorrupt);
      CHECK(s.message() == "state s.json: unknown version 2");
    }
    SUBCASE("negative position") {
      CHECK(decode("{\"version\":1,\"topic\":\"t\",\"files\":[{\"dev\":1,\"ino\":2,\"path\":\"a\",\"pos\":-1,"
                   "\"line\":0}]}")
                .code() == Code::kCorrupt);
    }
    SUBCASE("missing inode") {
      CHECK(decode("{\"version\":1,\"topic\":\"t\",\"files\":[{\"dev\":1,\"path\":\"a\",\"pos\":1,\"line\":0}]}")
                .code() == Code::kCorrupt);
    }
    SUBCASE("the same file twice") {
      CHECK(decode("{\"version\":1,\"topic\":\"t\",\"files\":[{\"dev\":1,\"ino\":2,\"path\":\"a\",\"pos\":1,"
                   "\"line\":0},{\"dev\":1,\"ino\":2,\"path\":\"b\",\"pos\":1,\"line\":0}]}")
                .code() == Code::kCorrupt);
    }
  }

  TEST_CASE("a follow state is saved atomically and loaded back; a missing one is no state") {
    char tmpl[] = "/tmp/kreek-follow-state-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    std::string path = std::string(tmpl) + "/state.json";
    auto none = cli::load_follow_state(path);
    REQUIRE(none.is_ok());
    CHECK(!none->has_value());
    REQUIRE(cli::save_follow_state(path, sample()).is_ok());
    auto back = cli::load_follow_state(path);
    REQUIRE(back.is_ok());
    REQUIRE(back->has_value());
    CHECK((*back)->files.size() == 2);
    std::filesystem::remove_all(tmpl);
  }

  TEST_CASE("of the state file and its .live twin the valid one with the higher seq wins") {
    char tmpl[] = "/tmp/kreek-follow-state-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    std::string path = std::string(tmpl) + "/state.json";
    cli::FollowState st = sample();
    cli::StateWriter w(path, 0);
    REQUIRE(w.save_durable(st).is_ok());  // seq 1
    st.files[0].pos = 5000;
    REQUIRE(w.save_quick(st).is_ok());  // seq 2
    auto back = cli::load_follow_state(path);
    REQUIRE(back.is_ok());
    REQUIRE(back->has_value());
    CHECK((*back)->seq == 2);
    CHECK((*back)->files[0].pos == 5000);
    SUBCASE("a shorter quick save overwrites a longer one") {
      st.files.pop_back();
      REQUIRE(w.save_quick(st).is_ok());  // seq 3, padded
      auto again = cli::load_follow_state(path);
      REQUIRE(again.is_ok());
      CHECK((*again)->files.size() == 1);
      CHECK((*again)->seq == 3);
    }
    SUBCASE("a torn .live loses to the durable file") {
      std::FILE* f = std::fopen((path + ".live").c_str(), "r+");
      REQUIRE(f != nullptr);
      std::fputs("{\"torn", f);
      std::fclose(f);
      auto again = cli::load_follow_state(path);
      REQUIRE(again.is_ok());
      CHECK((*again)->seq == 1);
      CHECK((*again)->files[0].pos == 4096);
    }
    SUBCASE("no state file means no state, whatever .live says") {
      std::filesystem::remove(path);
      auto again = cli::load_follow_state(path);
      REQUIRE(again.is_ok());
      CHECK(!again->has_value());
    }
    std::filesystem::remove_all(tmpl);
  }
}
