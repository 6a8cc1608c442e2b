// Topic names as Kafka allows them. This is the one implementation in kreek:
// storage needs it for directory and file names, proto for request checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kreek::storage {

inline constexpr size_t kMaxTopicNameLength = 249;
// Kafka caps partitions only by resources; kreek caps them so a typo cannot
// create a million directories (the same figure as proto::kMaxPartitions).
inline constexpr int32_t kMaxPartitions = 10'000;

// [A-Za-z0-9._-]{1,249}, and not "." or ".." (they name directories).
bool is_valid_topic_name(std::string_view name);

}  // namespace kreek::storage
