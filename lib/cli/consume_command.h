// kconsume's body: resolve where each partition starts (--from, -n,
// --checkpoint), consume like cat (to the end offsets seen at start) or follow
// like tail -f, write records through a large buffered writer, and at the end
// flush stdout and write the checkpoint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "cli/common.h"

namespace kreek::cli {

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
};

void add_consume_flags(CLI::App& app, ConsumeConfig& cfg);
Status run_consume(const ConsumeConfig& cfg);

}  // namespace kreek::cli
