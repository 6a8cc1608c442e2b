// Kafka's murmur2, transcribed from org.apache.kafka.common.utils.Utils.murmur2.
// Java's int arithmetic wraps and its >>> is a logical shift, so the C++ works
// on uint32_t (wrapping is defined there) and converts to int32_t at the end.
#include "proto/partitioner.h"

namespace kreek::proto {

int32_t murmur2(std::string_view key) {
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  const uint32_t length = static_cast<uint32_t>(key.size());
  constexpr uint32_t seed = 0x9747b28c;
  // 'm' and 'r' are mixing constants generated offline (Austin Appleby's MurmurHash2).
  constexpr uint32_t m = 0x5bd1e995;
  constexpr int r = 24;

  uint32_t h = seed ^ length;
  const uint32_t length4 = length / 4;
  for (uint32_t i = 0; i < length4; ++i) {
    const uint32_t i4 = i * 4;
    uint32_t k = uint32_t{data[i4 + 0]} | uint32_t{data[i4 + 1]} << 8 |
                 uint32_t{data[i4 + 2]} << 16 | uint32_t{data[i4 + 3]} << 24;
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  // Java's switch falls through from case 3 to case 1, as here. Java masks each
  // (signed) byte with 0xff, which is what loading unsigned bytes gives.
  const uint32_t tail = length & ~3u;
  switch (length % 4) {
    case 3: h ^= uint32_t{data[tail + 2]} << 16; [[fallthrough]];
    case 2: h ^= uint32_t{data[tail + 1]} << 8; [[fallthrough]];
    case 1:
      h ^= uint32_t{data[tail]};
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

}  // namespace kreek::proto
