// murmur2 and partition_for_key against Kafka's own published values
// (clients UtilsTest.testMurmur2; akka's Murmur2Spec for the short keys).
#include "proto/partitioner.h"

#include <doctest/doctest.h>

#include <string>

using namespace kreek::proto;

TEST_SUITE("proto") {
  TEST_CASE("murmur2 matches Kafka's Utils.murmur2 bit for bit") {
    CHECK(murmur2("21") == -973932308);
    CHECK(murmur2("foobar") == -790332482);
    CHECK(murmur2("a-little-bit-long-string") == -985981536);
    CHECK(murmur2("a-little-bit-longer-string") == -1486304829);
    CHECK(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == -58897971);
    const char abc[] = {'a', 'b', 'c'};
    CHECK(murmur2(std::string_view(abc, 3)) == 479470107);
    // Every tail length (0..3 leftover bytes) is covered by these.
    CHECK(murmur2("1") == -1993445489);
    CHECK(murmur2("12") == 126087238);
    CHECK(murmur2("123") == -267702483);
    CHECK(murmur2("1234") == -1614185708);
    CHECK(murmur2("12345") == -1188365604);
  }

  TEST_CASE("murmur2 treats bytes as unsigned like Kafka's & 0xff") {
    // High bytes must not sign-extend: a key of 0xff bytes hashes differently
    // from 0x7f bytes, and the value is stable.
    const std::string hi(5, '\xff');
    CHECK(murmur2(hi) != murmur2(std::string(5, '\x7f')));
    CHECK(murmur2(hi) == murmur2(std::string(5, '\xff')));
  }

  TEST_CASE("partition_for_key is to_positive(murmur2) modulo the partition count") {
    CHECK(to_positive(-1) == 0x7fffffff);
    CHECK(to_positive(INT32_MIN) == 0);
    CHECK(to_positive(5) == 5);
    // murmur2("foobar") = -790332482 -> & 0x7fffffff = 1357151166.
    CHECK(partition_for_key("foobar", 1) == 0);
    CHECK(partition_for_key("foobar", 3) == 1357151166 % 3);
    CHECK(partition_for_key("foobar", 10) == 6);
    for (int32_t n = 1; n < 50; ++n) {
      const int32_t p = partition_for_key("some-key", n);
      CHECK(p >= 0);
      CHECK(p < n);
      CHECK(p == partition_for_key("some-key", n));
    }
  }
}
