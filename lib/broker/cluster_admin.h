// Topic changes that go through the coordinator (create, delete, alter) and
// auto-creation on first use; see cluster_admin.cpp. Each answers through
// `done`, possibly later (once the change is in this broker's metadata).
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "broker/admin_ops.h"

namespace kreek::broker {

struct BrokerContext;

using AsyncDone = std::function<void(Result<nlohmann::ordered_json>)>;
using AsyncOpHandler = void (*)(BrokerContext& ctx, const nlohmann::ordered_json& req, AsyncDone done);

void admin_create_topic(BrokerContext& ctx, const nlohmann::ordered_json& req, AsyncDone done);
void admin_delete_topic(BrokerContext& ctx, const nlohmann::ordered_json& req, AsyncDone done);
void admin_alter_topic(BrokerContext& ctx, const nlohmann::ordered_json& req, AsyncDone done);
// alter_reassignment {topic, partition, replicas: [..] | null}: forwarded to
// the coordinator; answers the partition as it is once this broker has the
// change. Without a coordinator there is nowhere to move a replica to.
void admin_alter_reassignment(BrokerContext& ctx, const nlohmann::ordered_json& req, AsyncDone done);

// create_partitions {topic, partitions}: raises the topic's partition count
// to `partitions` (never lowers it: INVALID_REQUEST); answers {topic,
// partitions, was} once this broker's metadata has the new partitions.
void admin_create_partitions(BrokerContext& ctx, const nlohmann::ordered_json& req, AsyncDone done);

// Asks the coordinator to create `name` with the broker's defaults (once at a
// time per name) and runs `then` when that is done, whatever the outcome.
// Without a coordinator it runs `then` at once.
void request_topic_creation(BrokerContext& ctx, const std::string& name, std::function<void()> then = {});

// metadata: as handle_metadata, after creating the named topics that are
// missing when auto_create is asked and the broker allows it.
void admin_metadata(BrokerContext& ctx, const nlohmann::ordered_json& req, AsyncDone done);

}  // namespace kreek::broker
