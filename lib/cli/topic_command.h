// ktopic's body: create, list, describe, delete and alter topics, show the
// cluster, and move replicas between brokers (reassign, one partition or a
// --rebalance plan). describe prints a table per partition (log fields from
// each partition's leader) plus the config; --json prints the broker's JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "proto/message.h"
#include "cli/common.h"
#include "cli/group_command.h"

namespace kreek::cli {

struct TopicConfig {
  CommonOptions common;
  std::string action;  // create | list | describe | delete | alter | cluster | reassign | partition-for | metrics
  std::string name;
  std::optional<int32_t> partitions;
  int32_t replication_factor = 1;
  std::vector<std::string> configs;  // KEY=VALUE; KEY= removes (alter)
  bool json = false;
  // reassign
  std::optional<int32_t> partition;
  std::string replicas;  // "2,3,1"
  bool cancel = false;
  bool rebalance = false;
  bool execute = false;
  std::vector<std::string> keys;  // partition-for
  std::string broker;             // metrics: HOST:PORT or node id
  GroupConfig group;              // ktopic group ...
};

// Adds the subcommands (group has its own); the parsed one is stored in cfg.action.
void add_topic_commands(CLI::App& app, TopicConfig& cfg);
// The text forms of describe_topic and describe_cluster responses.
std::string describe_text(const proto::Json& describe_topic_response);
std::string cluster_text(const proto::Json& describe_cluster_response);
// "2,3,1" -> {2,3,1}; a usage error for anything else (empty, not a node id).
Result<std::vector<int32_t>> parse_replica_list(const std::string& text);
// The text form of an alter_reassignment answer: one line for topic/partition.
std::string reassignment_text(const std::string& topic, int32_t partition, const proto::Json& answer);
Status run_topic(const TopicConfig& cfg);

}  // namespace kreek::cli
