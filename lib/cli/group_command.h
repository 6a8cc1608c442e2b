// ktopic group: list the cluster's consumer groups, describe one (members,
// assignment, committed offset, end offset and lag per partition), reset its
// offsets (a dry run unless --execute) and delete it. Text tables for people,
// --json for scripts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "client/cluster.h"
#include "client/group_admin.h"
#include "proto/message.h"

namespace kreek::cli {

struct GroupConfig {
  std::string action;  // list | describe | reset | delete
  std::string group;
  bool json = false;
  // reset: exactly one of these
  bool to_earliest = false;
  bool to_latest = false;
  std::optional<int64_t> to_offset;
  std::optional<std::string> to_time;  // kconsume --from syntax
  std::optional<int64_t> shift_by;
  std::vector<std::string> topics;  // T or T:P[,P...]
  bool execute = false;
};

// Adds `ktopic group` with its four commands; returns it (ktopic sets its
// callback and help grouping like its other commands').
CLI::App* add_group_command(CLI::App& ktopic, GroupConfig& cfg);
// Usage errors, found before any broker is dialled.
Status check_group_config(const GroupConfig& cfg);
Status run_group(client::Cluster& cluster, const GroupConfig& cfg);

// "logs" -> {logs, {}}; "logs:0,3" -> {logs, {0,3}}. Usage errors otherwise.
Result<client::ResetTarget> parse_reset_target(const std::string& text);
std::string group_list_text(const proto::Json& groups);
std::string group_description_text(const client::GroupDescription& d);
proto::Json group_description_json(const client::GroupDescription& d);
std::string reset_plan_text(const std::vector<client::ResetRow>& plan);
proto::Json reset_plan_json(const std::vector<client::ResetRow>& plan);

}  // namespace kreek::cli
