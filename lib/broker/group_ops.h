// The consumer-group ops of the wire protocol (kreek-protocol(7), GROUPS):
// find_coordinator, join_group, sync_group, heartbeat, leave_group,
// commit_offsets, fetch_offsets, list_groups, describe_group and
// delete_group. Each validates every field of its request strictly (one-line
// INVALID_REQUEST messages), hands the request to the GroupCoordinator and
// shapes its answer. join_group answers when the join phase ends,
// commit_offsets and delete_group once their records are replicated.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "broker/cluster_admin.h"

namespace kreek::broker {

struct BrokerContext;
struct Request;

// Group ops see the request (the member's address is its "host").
using GroupOpHandler = void (*)(BrokerContext& ctx, const Request& req, const nlohmann::ordered_json& body,
                                AsyncDone done);

// The handler of group op `op`, or null if `op` is not one.
GroupOpHandler group_op(std::string_view op);

// A produce, delete or create of the internal offsets topic by a client:
// INVALID_REQUEST, else OK. `topic` is the request's topic.
Status check_internal_topic_use(std::string_view op, std::string_view topic);

}  // namespace kreek::broker
