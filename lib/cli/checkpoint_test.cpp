// Checkpoint files: JSON round trip, atomic replacement, malformed input.
#include "cli/checkpoint.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

using namespace kreek;

namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/kreek-checkpoint-XXXXXX";
  char* d = ::mkdtemp(tmpl);
  REQUIRE(d != nullptr);
  return d;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("a checkpoint into a missing directory is refused before anything is read") {
    std::string dir = temp_dir();
    CHECK(cli::check_checkpoint_writable(dir + "/cp.json").is_ok());
    Status s = cli::check_checkpoint_writable(dir + "/no/such/cp.json");
    CHECK(!s.is_ok());
    CHECK(s.message() == "cannot write checkpoint " + dir + "/no/such/cp.json: directory " + dir +
                             "/no/such does not exist");
  }

  TEST_CASE("a checkpoint file round trips") {
    std::string dir = temp_dir();
    std::string path = dir + "/cp.json";
    cli::Checkpoint cp;
    cp.topic = "orders";
    cp.offsets = {{0, 43}, {2, 7}};
    REQUIRE(cli::save_checkpoint(path, cp).is_ok());
    auto loaded = cli::load_checkpoint(path);
    REQUIRE(loaded.is_ok());
    REQUIRE(loaded->has_value());
    CHECK((*loaded)->topic == "orders");
    CHECK((*loaded)->offsets == cp.offsets);
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text == "{\"topic\":\"orders\",\"offsets\":{\"0\":43,\"2\":7}}\n");
    std::system(("rm -rf " + dir).c_str());
  }

  TEST_CASE("saving a checkpoint replaces the file and leaves no temp file") {
    std::string dir = temp_dir();
    std::string path = dir + "/cp.json";
    cli::Checkpoint cp{"t", {{0, 1}}};
    REQUIRE(cli::save_checkpoint(path, cp).is_ok());
    cp.offsets[0] = 99;
    REQUIRE(cli::save_checkpoint(path, cp).is_ok());
    size_t entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) entries += e.path() != path;
    CHECK(entries == 0);  // no temp file left beside it
    CHECK((*cli::load_checkpoint(path))->offsets.at(0) == 99);
    std::system(("rm -rf " + dir).c_str());
  }

  TEST_CASE("a missing checkpoint file is not an error") {
    auto r = cli::load_checkpoint("/nonexistent-kreek-dir/cp.json");
    REQUIRE(r.is_ok());
    CHECK_FALSE(r->has_value());
  }

  TEST_CASE("a malformed checkpoint is CORRUPT_RECORD") {
    CHECK(cli::decode_checkpoint("{", "f").status().code() == Code::kCorrupt);
    CHECK(cli::decode_checkpoint("{\"topic\":\"t\"}", "f").status().code() == Code::kCorrupt);
    CHECK(cli::decode_checkpoint("{\"topic\":\"t\",\"offsets\":{\"x\":1}}", "f").status().code() ==
          Code::kCorrupt);
    CHECK(cli::decode_checkpoint("{\"topic\":\"t\",\"offsets\":{\"0\":-1}}", "f").status().code() ==
          Code::kCorrupt);
  }
}
