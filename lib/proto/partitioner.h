// Kafka's default partitioner, bit for bit, so a key lands on the partition a
// Kafka user expects: toPositive(murmur2(key)) % partitions.
#pragma once

#include <cstdint>
#include <string_view>

namespace kreek::proto {

// Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), seed 0x9747b28c.
int32_t murmur2(std::string_view key);
inline int32_t to_positive(int32_t n) { return n & 0x7fffffff; }
inline int32_t partition_for_key(std::string_view key, int32_t partitions) {
  return to_positive(murmur2(key)) % partitions;
}

}  // namespace kreek::proto
