// init_producer_id on a broker: an idempotent producer asks any broker for a
// producer id, and the broker forwards the request to the coordinator, which
// allocates ids through its metadata log (so an id is never handed out twice,
// also across coordinator restarts). A standalone broker's embedded
// coordinator answers the same way.
#pragma once

#include <nlohmann/json.hpp>

#include "broker/cluster_admin.h"

namespace kreek::broker {

struct BrokerContext;

// Answers {"producer_id":P,"producer_epoch":0}. Without a coordinator (unit
// tests of a bare broker) there is nobody to allocate ids: UNAVAILABLE.
void admin_init_producer_id(BrokerContext& ctx, const nlohmann::ordered_json& req, AsyncDone done);

}  // namespace kreek::broker
