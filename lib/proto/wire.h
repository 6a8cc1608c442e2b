// Wire constants of the JSON-line protocol (kreek-protocol(7)): version, limits,
// op names, and the framing of fetch responses.
#pragma once

#include <cstdint>

#include "base/topic_name.h"

namespace kreek::proto {

inline constexpr int kProtocolVersion = 1;

// A request line longer than this gets MESSAGE_TOO_LARGE and is skipped to its
// newline (the broker's --max-request-bytes can change it). 8 MiB leaves room
// for Kafka's default 1 MiB message.max.bytes batches plus JSON escaping.
inline constexpr int64_t kDefaultMaxRequestBytes = 8 << 20;
// Kafka's default message.max.bytes: the largest records array one produce may carry.
inline constexpr int64_t kDefaultMaxBatchBytes = 1 << 20;
inline constexpr int32_t kMaxRecordsPerBatch = 1 << 20;
// Default and ceiling for a fetch's max_bytes.
inline constexpr int64_t kDefaultFetchMaxBytes = 1 << 20;
inline constexpr int64_t kMaxFetchMaxBytes = 64 << 20;
inline constexpr int64_t kMaxFetchWaitMs = 60'000;

// The topic name rule and the partition cap are base's (storage names
// directories by them); the wire checks the same ones.
using ::kreek::is_valid_topic_name;
using ::kreek::kMaxPartitions;
using ::kreek::kMaxTopicNameLength;

}  // namespace kreek::proto
