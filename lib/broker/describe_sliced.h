// describe_topic for big topics, built a slice of partitions per loop turn so
// that describing thousands of partitions does not stall the other clients
// (60 pipelined describes of a 2,000-partition topic delayed another client's
// hello by 1.2 s). Small topics, and contexts without a loop, answer at once.
#pragma once

#include <nlohmann/json.hpp>

#include "broker/cluster_admin.h"

namespace kreek::broker {

// Partitions described per loop turn.
inline constexpr int32_t kDescribeSlice = 128;

void admin_describe_topic(BrokerContext& ctx, const nlohmann::ordered_json& req, AsyncDone done);

}  // namespace kreek::broker
