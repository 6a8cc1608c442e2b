// The read-only token's ops: see read_only_access.h.
#include "broker/read_only_access.h"

#include <string>

namespace kreek::broker {

namespace {

constexpr std::string_view kReadOnlyOps[] = {
    // the connection and the cluster
    "hello", "metadata", "describe_cluster", "describe_topic", "metrics",
    // records and offsets
    "list_offsets", "offsets_for_epoch", "fetch",
    // group views
    "find_coordinator", "fetch_offsets", "list_groups", "describe_group",
};

Status refused(std::string_view what) {
  return Status(Code::kUnauthorized, std::string(what) + " needs the full auth token: this connection's token is read-only");
}

}  // namespace

Status check_read_only_op(std::string_view op) {
  for (std::string_view allowed : kReadOnlyOps)
    if (op == allowed) return Status::ok();
  return refused("op \"" + std::string(op) + "\"");
}

Status check_read_only_body(std::string_view op, const proto::Json& body) {
  if (op == "fetch" && body.contains("replica")) return refused("a follower's fetch");
  if (op == "metadata") {
    auto create = body.find("auto_create");
    if (create != body.end() && create->is_boolean() && create->get<bool>()) return refused("metadata with auto_create");
  }
  return Status::ok();
}

}  // namespace kreek::broker
