// ktopic's body: create, list, describe, delete and alter topics, and show the
// cluster. describe prints a table per partition (log fields from each
// partition's leader) plus the config; --json prints the broker's JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "proto/message.h"
#include "cli/common.h"

namespace kreek::cli {

struct TopicConfig {
  CommonOptions common;
  std::string action;  // create | list | describe | delete | alter | cluster
  std::string name;
  std::optional<int32_t> partitions;
  int32_t replication_factor = 1;
  std::vector<std::string> configs;  // KEY=VALUE; KEY= removes (alter)
  bool json = false;
};

// Adds the six subcommands; the parsed one is stored in cfg.action.
void add_topic_commands(CLI::App& app, TopicConfig& cfg);
// The text forms of describe_topic and describe_cluster responses.
std::string describe_text(const proto::Json& describe_topic_response);
std::string cluster_text(const proto::Json& describe_cluster_response);
Status run_topic(const TopicConfig& cfg);

}  // namespace kreek::cli
