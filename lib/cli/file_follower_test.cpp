// FileFollower on real files in a temp directory: positions, partial lines,
// rotation by rename, copytruncate, glob pick-up and resuming from a state.
// Time is passed in, so waits are tested without sleeping.
#include "cli/file_follower.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

using namespace kreek;

namespace {

struct Collect : cli::FollowSink {
  std::vector<std::string> got;
  void on_line(uint32_t file, std::string_view line, int64_t line_no, int64_t end_pos) override {
    got.push_back(std::to_string(file) + ":" + std::to_string(line_no) + ":" + std::string(line) + "@" +
                  std::to_string(end_pos));
  }
  void on_reset(uint32_t file, int64_t pos) override {
    got.push_back(std::to_string(file) + ":reset@" + std::to_string(pos));
  }
  std::vector<std::string> take() { return std::exchange(got, {}); }
};

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/kreek-follower-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

void append(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
}

cli::FollowOptions opts(std::vector<std::string> patterns) {
  cli::FollowOptions o;
  o.patterns = std::move(patterns);
  o.partial_wait_ms = 100;
  o.rotate_wait_ms = 50;
  return o;
}

using V = std::vector<std::string>;

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("followed lines carry their number and the byte position after them") {
    TempDir d;
    append(d / "app.log", "a\nbb\n");
    cli::FileFollower f(opts({d / "app.log"}));
    REQUIRE(f.start(nullptr, 0).is_ok());
    Collect c;
    CHECK(f.read(0, 1 << 20, c).value() == 5);
    CHECK(c.take() == V{"0:1:a@2", "0:2:bb@5"});
    append(d / "app.log", "ccc\n");
    CHECK(f.read(1, 1 << 20, c).value() == 4);
    CHECK(c.take() == V{"0:3:ccc@9"});
    CHECK(f.read(2, 1 << 20, c).value() == 0);
  }

  TEST_CASE("a line without its newline is held until it ends or its wait runs out") {
    TempDir d;
    append(d / "app.log", "par");
    cli::FileFollower f(opts({d / "app.log"}));
    REQUIRE(f.start(nullptr, 0).is_ok());
    Collect c;
    (void)f.read(0, 1 << 20, c);
    CHECK(c.take().empty());
    CHECK(f.next_deadline() == 100);
    append(d / "app.log", "tial\nnext");
    (void)f.read(50, 1 << 20, c);
    CHECK(c.take() == V{"0:1:partial@8"});
    (void)f.read(149, 1 << 20, c);
    CHECK(c.take().empty());
    (void)f.read(150, 1 << 20, c);
    CHECK(c.take() == V{"0:2:next@12"});
    append(d / "app.log", " more\n");  // the rest of a line sent early is a line of its own
    (void)f.read(160, 1 << 20, c);
    CHECK(c.take() == V{"0:3: more@18"});
  }

  TEST_CASE("rotation by rename finishes the old file, then closes it, and reads the new one from 0") {
    TempDir d;
    append(d / "app.log", "a\n");
    cli::FileFollower f(opts({d / "app.log"}));
    REQUIRE(f.start(nullptr, 0).is_ok());
    Collect c;
    (void)f.read(0, 1 << 20, c);
    CHECK(c.take() == V{"0:1:a@2"});
    std::ofstream writer(d / "app.log", std::ios::app);  // the application's open file
    std::filesystem::rename(d / "app.log", d / "app.log.1");
    writer << "late\n" << std::flush;  // written before the application reopens
    append(d / "app.log", "new\n");
    f.rescan(10);
    (void)f.read(10, 1 << 20, c);
    CHECK(c.take() == V{"0:2:late@7", "1:1:new@4"});
    CHECK(f.is_open(0));
    (void)f.read(59, 1 << 20, c);
    CHECK(f.is_open(0));
    (void)f.read(60, 1 << 20, c);
    CHECK(!f.is_open(0));
    CHECK(f.is_open(1));
    CHECK(f.path(0) == d / "app.log");
  }

  TEST_CASE("a renamed file that a glob still names is the same file, not a new one") {
    TempDir d;
    append(d / "app.log", "a\n");
    cli::FileFollower f(opts({d / "app.log*"}));
    REQUIRE(f.start(nullptr, 0).is_ok());
    Collect c;
    (void)f.read(0, 1 << 20, c);
    std::filesystem::rename(d / "app.log", d / "app.log.1");
    append(d / "app.log", "b\n");
    f.rescan(10);
    (void)f.read(10, 1 << 20, c);
    CHECK(c.take() == V{"0:1:a@2", "1:1:b@2"});
    CHECK(f.file_count() == 2);
  }

  TEST_CASE("copytruncate: a file shorter than the position is read again from 0") {
    TempDir d;
    append(d / "app.log", "one\ntwo\n");
    cli::FileFollower f(opts({d / "app.log"}));
    REQUIRE(f.start(nullptr, 0).is_ok());
    Collect c;
    (void)f.read(0, 1 << 20, c);
    c.take();
    std::filesystem::copy_file(d / "app.log", d / "app.log.1");
    REQUIRE(::truncate((d / "app.log").c_str(), 0) == 0);
    append(d / "app.log", "x\n");
    (void)f.read(10, 1 << 20, c);
    CHECK(c.take() == V{"0:reset@0", "0:1:x@2"});
  }

  TEST_CASE("a glob picks up files created later, from their beginning") {
    TempDir d;
    append(d / "a.log", "a\n");
    cli::FollowOptions o = opts({d / "*.log"});
    o.start_at_end = true;  // only for files there at start
    cli::FileFollower f(o);
    REQUIRE(f.start(nullptr, 0).is_ok());
    Collect c;
    CHECK(f.read(0, 1 << 20, c).value() == 0);
    append(d / "b.log", "b1\nb2\n");
    append(d / "b.txt", "not matched\n");
    f.rescan(5);
    (void)f.read(5, 1 << 20, c);
    CHECK(c.take() == V{"1:1:b1@3", "1:2:b2@6"});
    append(d / "a.log", "a2\n");
    (void)f.read(6, 1 << 20, c);
    CHECK(c.take() == V{"0:2:a2@5"});  // line numbers count what was skipped
  }

  TEST_CASE("a saved position resumes a known file; an unknown or shrunk one starts at 0") {
    TempDir d;
    append(d / "app.log", "a\nb\nc\n");
    append(d / "other.log", "x\n");
    struct stat st {};
    REQUIRE(::stat((d / "app.log").c_str(), &st) == 0);
    cli::FollowState saved;
    saved.topic = "t";
    saved.files.push_back({static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), d / "app.log", 4, 2});
    SUBCASE("resume") {
      cli::FileFollower f(opts({d / "app.log", d / "other.log"}));
      REQUIRE(f.start(&saved, 0).is_ok());
      Collect c;
      (void)f.read(0, 1 << 20, c);
      CHECK(c.take() == V{"0:3:c@6", "1:1:x@2"});
    }
    SUBCASE("shrunk below the saved position") {
      saved.files[0].pos = 100;
      cli::FileFollower f(opts({d / "app.log"}));
      REQUIRE(f.start(&saved, 0).is_ok());
      Collect c;
      (void)f.read(0, 1 << 20, c);
      CHECK(c.take() == V{"0:1:a@2", "0:2:b@4", "0:3:c@6"});
    }
  }

  TEST_CASE("a file rotated while nothing followed it is found by inode and finished") {
    TempDir d;
    append(d / "app.log", "a\nb\n");
    struct stat st {};
    REQUIRE(::stat((d / "app.log").c_str(), &st) == 0);
    cli::FollowState saved;
    saved.topic = "t";
    saved.files.push_back({static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), d / "app.log", 2, 1});
    std::filesystem::rename(d / "app.log", d / "app.log.1");
    append(d / "app.log", "new\n");
    cli::FileFollower f(opts({d / "app.log"}));
    REQUIRE(f.start(&saved, 0).is_ok());
    Collect c;
    (void)f.read(0, 1 << 20, c);
    V got = c.take();
    std::sort(got.begin(), got.end());
    CHECK(got == V{"0:1:new@4", "1:2:b@4"});
    CHECK(f.path(1) == d / "app.log");  // records still name the followed name
  }
}
