// CRC-32C against the published check values (RFC 3720 appendix B.4).
#include "base/crc32c.h"

#include <doctest/doctest.h>

#include <string>

using namespace kreek;

TEST_SUITE("base") {
  TEST_CASE("crc32c matches the published check values") {
    CHECK(crc32c::value("123456789") == 0xE3069283u);
    CHECK(crc32c::value("") == 0u);
    std::string zeros(32, '\0');
    CHECK(crc32c::value(zeros) == 0x8A9136AAu);
    std::string ones(32, '\xff');
    CHECK(crc32c::value(ones) == 0x62A8AB43u);
  }

  TEST_CASE("crc32c extends across split buffers") {
    std::string s = "The quick brown fox jumps over the lazy dog, twice over";
    for (size_t cut = 0; cut <= s.size(); ++cut) {
      uint32_t c = crc32c::extend(0, s.data(), cut);
      c = crc32c::extend(c, s.data() + cut, s.size() - cut);
      CHECK(c == crc32c::value(s));
    }
  }
}
