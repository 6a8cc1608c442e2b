// ktopic's body: create, list, describe, delete and alter topics. describe
// prints a table per partition plus the config overrides; --json prints the
// broker's JSON as it came.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "cli/common.h"

namespace kreek::cli {

struct TopicConfig {
  CommonOptions common;
  std::string action;  // create | list | describe | delete | alter
  std::string name;
  std::optional<int32_t> partitions;
  std::vector<std::string> configs;  // KEY=VALUE; KEY= removes (alter)
  bool json = false;
};

// Adds the five subcommands; the parsed one is stored in cfg.action.
void add_topic_commands(CLI::App& app, TopicConfig& cfg);
Status run_topic(const TopicConfig& cfg);

}  // namespace kreek::cli
