// kproduce's body: read lines from files or stdin, turn each into a record and
// hand it to the producer; at EOF flush, wait for every ack, and fail with a
// count of the records that were not acknowledged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "cli/common.h"
#include "cli/follow_command.h"

namespace kreek::cli {

struct ProduceConfig {
  CommonOptions common;
  std::string topic;
  std::vector<std::string> files;  // empty or "-" = stdin
  std::optional<std::string> key;
  std::optional<std::string> key_separator;
  bool json = false;
  std::vector<std::string> headers;  // NAME=VALUE
  std::optional<int32_t> partition;
  std::string acks = "all";
  int64_t linger_ms = 5;
  int64_t batch_bytes = 256 << 10;
  int max_in_flight = 8;
  bool no_idempotence = false;  // --no-idempotence: no producer id, retries may duplicate
  int64_t timeout_ms = 120'000;  // --timeout: the producer's delivery timeout
  FollowConfig follow;  // --follow, --state, --receipts and their kin (follow_command.h)
};

void add_produce_flags(CLI::App& app, ProduceConfig& cfg);
Status run_produce(const ProduceConfig& cfg);

}  // namespace kreek::cli
