// offsets_for_epoch: where a leader epoch ended in this leader's log
// (Kafka's OffsetsForLeaderEpoch, KIP-101/279). A follower asks for its own
// latest epoch before fetching and truncates to the answer, so it drops
// exactly the records an old leader wrote that the cluster never committed.
#include <limits>

#include "broker/admin_ops.h"
#include "broker/broker_context.h"
#include "broker/fetch.h"
#include "proto/request_fields.h"
#include "storage/partition_log.h"

namespace kreek::broker {

using json = nlohmann::ordered_json;

Result<json> handle_offsets_for_epoch(BrokerContext& ctx, const json& req) {
  auto parts = req.find("parts");
  if (parts == req.end() || !parts->is_array() || parts->empty())
    return invalid_request("\"parts\" must be a non-empty array of {topic, partition, leader_epoch, epoch}");
  constexpr int64_t kMaxI32 = std::numeric_limits<int32_t>::max();
  json out = json::array();
  for (size_t i = 0; i < parts->size(); ++i) {
    const json& p = (*parts)[i];
    if (!p.is_object()) return invalid_request("parts[" + std::to_string(i) + "] must be an object");
    std::string topic;
    int64_t partition = 0, epoch = 0;
    std::optional<int64_t> leader_epoch;
    std::string at = "parts[" + std::to_string(i) + "]";
    KREEK_RETURN_IF_ERROR(proto::require_topic(p, topic).with_context(at));
    KREEK_RETURN_IF_ERROR(proto::require_int(p, "partition", 0, kMaxI32, partition).with_context(at));
    KREEK_RETURN_IF_ERROR(proto::require_int(p, "epoch", -1, kMaxI32, epoch).with_context(at));
    KREEK_RETURN_IF_ERROR(proto::read_int(p, "leader_epoch", -1, kMaxI32, leader_epoch).with_context(at));
    PartitionId pid(static_cast<int32_t>(partition));
    json entry = {{"topic", topic}, {"partition", partition}};
    storage::PartitionLog* log = ctx.logs.log(topic, pid);
    Status s = log == nullptr ? Status(Code::kUnknownPartition, topic + "/" + std::to_string(partition) +
                                                                     " is not held by this broker")
                              : ctx.leadership(topic, pid);
    if (s.is_ok()) s = check_leader_epoch(ctx, topic, pid, static_cast<int32_t>(leader_epoch.value_or(-1)));
    if (!s.is_ok()) {
      entry["error"] = error_json(s);
      out.push_back(std::move(entry));
      continue;
    }
    storage::EpochEnd end = log->end_offset_for_epoch(LeaderEpoch(static_cast<int32_t>(epoch)));
    entry["epoch"] = end.epoch.value();
    entry["end_offset"] = end.end.value();
    out.push_back(std::move(entry));
  }
  return json{{"parts", std::move(out)}};
}

}  // namespace kreek::broker
