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
}
