// Topic names follow Kafka's rule exactly.
#include "base/topic_name.h"

#include <doctest/doctest.h>

#include <string>

using namespace kreek;

TEST_SUITE("base") {
  TEST_CASE("topic names are 1 to 249 of [A-Za-z0-9._-] and not . or ..") {
    CHECK(is_valid_topic_name("orders"));
    CHECK(is_valid_topic_name("a"));
    CHECK(is_valid_topic_name("My_Topic-1.v2"));
    CHECK(is_valid_topic_name("a.b_c-D9"));
    CHECK(is_valid_topic_name("..."));
    CHECK(is_valid_topic_name(std::string(249, 'x')));
    CHECK_FALSE(is_valid_topic_name(std::string(250, 'x')));
    CHECK_FALSE(is_valid_topic_name(""));
    CHECK_FALSE(is_valid_topic_name("."));
    CHECK_FALSE(is_valid_topic_name(".."));
    CHECK_FALSE(is_valid_topic_name("a/b"));
    CHECK_FALSE(is_valid_topic_name("a b"));
    CHECK_FALSE(is_valid_topic_name("caf\xc3\xa9"));
    CHECK_FALSE(is_valid_topic_name(std::string("a\0b", 3)));
  }

  TEST_CASE("topic_name_problem says why, and does not echo a name over the limit") {
    CHECK(topic_name_problem("orders").empty());
    CHECK(topic_name_problem("a b") ==
          "invalid topic name \"a b\": use 1 to 249 of [A-Za-z0-9._-], not \".\" or \"..\"");
    CHECK(topic_name_problem(std::string(300, 'x')) == "invalid topic name: 300 bytes, longer than 249");
  }
}
