// Atomic small files: replacement leaves no temp file, reads are bounded, and
// a missing file is kNotFound (callers such as --checkpoint treat it as empty).
#include "base/atomic_file.h"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

using namespace kreek;

TEST_SUITE("base") {
  TEST_CASE("write_file_atomically replaces a file and leaves nothing beside it") {
    char tmpl[] = "/tmp/kreek-atomic-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    const std::string dir = tmpl;
    const std::string path = dir + "/meta.json";
    REQUIRE(write_file_atomically(path, "one\n").is_ok());
    REQUIRE(write_file_atomically(path, "two\n").is_ok());
    auto text = read_small_file(path);
    REQUIRE(text.is_ok());
    CHECK(*text == "two\n");
    size_t entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) entries += e.path() != path;
    CHECK(entries == 0);

    SUBCASE("a file longer than max_bytes is kCorrupt, not read whole") {
      auto r = read_small_file(path, 3);
      REQUIRE_FALSE(r.is_ok());
      CHECK(r.status().code() == Code::kCorrupt);
      CHECK(read_small_file(path, 4).is_ok());
    }
    SUBCASE("a missing file is kNotFound") {
      auto r = read_small_file(dir + "/absent");
      REQUIRE_FALSE(r.is_ok());
      CHECK(r.status().code() == Code::kNotFound);
    }
    SUBCASE("a missing directory fails the write") {
      Status s = write_file_atomically(dir + "/no/such/file", "x");
      CHECK_FALSE(s.is_ok());
    }
    std::filesystem::remove_all(dir);
  }
}
