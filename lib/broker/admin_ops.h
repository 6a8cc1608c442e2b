// The small ops — hello, metadata, topic create/delete/alter/describe and
// list_offsets. Each validates its request object and returns the response's
// fields (the router wraps them with id and ok) or a failed Status.
#pragma once

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace kreek::storage {
struct TopicInfo;
}

namespace kreek::broker {

struct BrokerContext;

using OpHandler = Result<nlohmann::ordered_json> (*)(BrokerContext& ctx, const nlohmann::ordered_json& req);

Result<nlohmann::ordered_json> handle_hello(BrokerContext& ctx, const nlohmann::ordered_json& req);
Result<nlohmann::ordered_json> handle_metadata(BrokerContext& ctx, const nlohmann::ordered_json& req);
// Every broker of the cluster with its address, rack, state and how many
// partitions it leads (ktopic cluster).
Result<nlohmann::ordered_json> handle_describe_cluster(BrokerContext& ctx, const nlohmann::ordered_json& req);
Result<nlohmann::ordered_json> handle_create_topic(BrokerContext& ctx, const nlohmann::ordered_json& req);
Result<nlohmann::ordered_json> handle_delete_topic(BrokerContext& ctx, const nlohmann::ordered_json& req);
Result<nlohmann::ordered_json> handle_alter_topic(BrokerContext& ctx, const nlohmann::ordered_json& req);
Result<nlohmann::ordered_json> handle_describe_topic(BrokerContext& ctx, const nlohmann::ordered_json& req);
Result<nlohmann::ordered_json> handle_list_offsets(BrokerContext& ctx, const nlohmann::ordered_json& req);
// Where a leader epoch ended in this leader's log (a follower's truncation point).
Result<nlohmann::ordered_json> handle_offsets_for_epoch(BrokerContext& ctx, const nlohmann::ordered_json& req);

// describe_topic's answer in pieces, for the sliced describe: one partition's
// object, and the answer around the list of them.
nlohmann::ordered_json describe_topic_partition(BrokerContext& ctx, const storage::TopicInfo& t, int32_t p);
nlohmann::ordered_json describe_topic_answer(const storage::TopicInfo& t, nlohmann::ordered_json partitions);

// Every key's effective value, as describe_topic and alter_topic answer it.
nlohmann::ordered_json effective_config(const storage::TopicInfo& t);

// {"code":..,"message":..} for an error reported inside an ok response
// (a topic of metadata, a partition of list_offsets).
nlohmann::ordered_json error_json(const Status& s);

}  // namespace kreek::broker
