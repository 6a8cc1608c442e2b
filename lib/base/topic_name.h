// Topic names as Kafka allows them, and the partition cap: the one place kreek
// states what a topic may be called and how large it may be. Storage needs the
// rule for directory and file names, the broker for request checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kreek {

inline constexpr size_t kMaxTopicNameLength = 249;
// Kafka caps partitions only by resources; kreek caps them so a typo cannot
// create a million directories.
inline constexpr int32_t kMaxPartitions = 10'000;

// [A-Za-z0-9._-]{1,249}, and not "." or ".." (they name directories).
// Kafka's Topic.validate, so names port both ways.
bool is_valid_topic_name(std::string_view name);
// Empty for a valid name, else the one-line reason the broker sends and the
// tools print: `invalid topic name "a b": use 1 to 249 of [A-Za-z0-9._-], ...`.
// A name over the limit is not echoed, only its length.
std::string topic_name_problem(std::string_view name);

}  // namespace kreek
