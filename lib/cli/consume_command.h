// kconsume's body: resolve where each partition starts (--from, -n,
// --checkpoint), consume like cat (to the end offsets seen at start) or follow
// like tail -f, write records through a large buffered writer, and at the end
// flush stdout and write the checkpoint. With -g the partitions come from a
// consumer group instead (group_consume.cpp) and positions are committed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "cli/common.h"

namespace kreek::cli {

// How long a read without -f retries a partition whose leader cannot be
// reached or moved, before it fails: long enough to ride out a failover
// (the coordinator's 3 s session, the election, the new metadata) on a
// loaded machine.
inline constexpr int64_t kRideOutFailoverMs = 10000;

struct ConsumeConfig {
  CommonOptions common;
  std::string topic;
  bool follow = false;
  std::optional<int64_t> last;      // -n
  std::optional<std::string> from;  // --from
  std::optional<int32_t> partition;
  std::optional<int64_t> count;     // -c
  bool json = false;
  std::optional<std::string> format;
  std::optional<std::string> null_text;  // --null
  std::optional<std::string> checkpoint;
  std::optional<std::string> reset;  // earliest | latest
  // Consumer groups (-g): the topic may then be a comma-separated list.
  std::optional<std::string> group;
  std::optional<std::string> assignor;
  std::optional<int64_t> session_timeout_ms;
  std::optional<int64_t> commit_interval_ms;
  std::optional<std::string> commit;  // on | off
  std::optional<std::string> instance_id;
};

void add_consume_flags(CLI::App& app, ConsumeConfig& cfg);
Status run_consume(const ConsumeConfig& cfg);

class RecordFormatter;
// kconsume -g (group_consume.cpp): flags already checked by run_consume.
Status run_group_consume(const ConsumeConfig& cfg, const RecordFormatter& fmt);
// "logs,audit" -> {"logs","audit"}; a usage error for an empty or bad name.
Result<std::vector<std::string>> parse_topic_list(const std::string& text);

}  // namespace kreek::cli
