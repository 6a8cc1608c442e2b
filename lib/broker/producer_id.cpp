// init_producer_id: forwarded to the coordinator like the topic admin ops
// (cluster_admin.cpp), answered with the id it allocated and epoch 0.
#include "broker/producer_id.h"

#include "broker/broker_context.h"
#include "broker/coordinator_link.h"

namespace kreek::broker {

using json = nlohmann::ordered_json;

void admin_init_producer_id(BrokerContext& ctx, const json& /*req*/, AsyncDone done) {
  if (ctx.coordinator == nullptr)
    return done(Status(Code::kUnavailable, "init producer id: this broker has no coordinator to allocate ids"));
  ctx.coordinator->call({{"op", "init_producer_id"}}, [done](Result<proto::Json> r) {
    if (!r.is_ok()) return done(r.status());
    auto id = r->find("producer_id");
    if (id == r->end() || !id->is_number_integer() || id->get<int64_t>() < 0)
      return done(Status(Code::kProtocol, "init producer id: the coordinator answered without a producer_id"));
    // Epoch 0 always: ids are never reused, so there is no earlier
    // incarnation of this id to fence (that needs transactional ids).
    done(json{{"producer_id", id->get<int64_t>()}, {"producer_epoch", 0}});
  });
}

}  // namespace kreek::broker
