// Topic changes in a cluster: create, delete and alter go to the coordinator,
// which decides and logs them; the answer comes back once this broker's own
// metadata has the change, so a client can use it here at once. Without a
// coordinator (unit tests) the local handlers of admin_ops.cpp answer.
#include "broker/cluster_admin.h"

#include <cstdlib>

#include "base/json_value.h"
#include "base/log.h"
#include "base/topic_name.h"
#include "broker/broker_context.h"
#include "broker/coordinator_link.h"
#include "group/offset_records.h"
#include "proto/request_fields.h"
#include "proto/wire.h"
#include "storage/log_manager.h"

namespace kreek::broker {

using json = nlohmann::ordered_json;

namespace {

json overrides_of(const storage::TopicInfo& t) {
  json out = json::object();
  for (const auto& [k, v] : t.overrides) out[k] = v;
  return out;
}

}  // namespace

void admin_create_topic(BrokerContext& ctx, const json& req, AsyncDone done) {
  if (ctx.coordinator == nullptr) return done(handle_create_topic(ctx, req));
  std::string name;
  std::optional<int64_t> partitions, rf;
  std::map<std::string, std::string> config;
  if (Status s = proto::require_topic(req, name); !s.is_ok()) return done(s);
  if (Status s = proto::read_int(req, "partitions", 1, proto::kMaxPartitions, partitions); !s.is_ok()) return done(s);
  if (Status s = proto::read_int(req, "replication_factor", 1, 100, rf); !s.is_ok()) return done(s);
  if (Status s = proto::read_config(req, /*allow_null=*/false, config); !s.is_ok()) return done(s);
  // acks=all could never succeed: say so now rather than at every produce.
  if (auto it = config.find("min.insync.replicas"); it != config.end() && std::atoll(it->second.c_str()) > rf.value_or(1))
    return done(invalid_request("min.insync.replicas " + it->second + " is more than the replication factor " +
                                std::to_string(rf.value_or(1)) + ": acks=all writes would always fail"));
  int64_t count = partitions.value_or(ctx.config.default_partitions);
  json forward = {{"op", "create_topic"}, {"topic", name}, {"partitions", count},
                  {"replication_factor", rf.value_or(1)}, {"config", config}};
  BrokerContext* c = &ctx;
  ctx.coordinator->call(std::move(forward), [c, name, count, done](Result<proto::Json> r) {
    if (!r.is_ok()) return done(r.status());
    log::info("created topic \"" + name + "\" with " + std::to_string(count) +
              (count == 1 ? " partition" : " partitions"));
    // The answer says this broker has it: its logs too, if being made.
    c->when_topic_settled(name, [name, count, done] { done(json{{"topic", name}, {"partitions", count}}); });
  });
}

void admin_delete_topic(BrokerContext& ctx, const json& req, AsyncDone done) {
  if (ctx.coordinator == nullptr) return done(handle_delete_topic(ctx, req));
  std::string name;
  if (Status s = proto::require_topic(req, name); !s.is_ok()) return done(s);
  ctx.coordinator->call({{"op", "delete_topic"}, {"topic", name}}, [name, done](Result<proto::Json> r) {
    if (!r.is_ok()) return done(r.status());
    log::info("deleted topic \"" + name + "\"");
    done(json::object());
  });
}

void admin_alter_topic(BrokerContext& ctx, const json& req, AsyncDone done) {
  if (ctx.coordinator == nullptr) return done(handle_alter_topic(ctx, req));
  std::string name;
  if (Status s = proto::require_topic(req, name); !s.is_ok()) return done(s);
  if (!req.contains("config") || !req["config"].is_object())
    return done(invalid_request("\"config\" must be an object of key: value (null removes a key)"));
  std::map<std::string, std::string> changes;
  if (Status s = proto::read_config(req, /*allow_null=*/true, changes); !s.is_ok()) return done(s);
  json config = json::object();
  for (const auto& [k, v] : changes) config[k] = v.empty() ? json(nullptr) : json(v);
  BrokerContext* c = &ctx;
  ctx.coordinator->call({{"op", "alter_topic"}, {"topic", name}, {"config", config}},
                        [c, name, done](Result<proto::Json> r) {
                          if (!r.is_ok()) return done(r.status());
                          const storage::TopicInfo* t = c->logs.topic(name);
                          if (t == nullptr) return done(Status(Code::kUnknownTopic, "topic \"" + name + "\" does not exist"));
                          log::info("altered topic \"" + name + "\" config");
                          done(json{{"topic", name}, {"config", effective_config(*t)}, {"overrides", overrides_of(*t)}});
                        });
}

void admin_alter_reassignment(BrokerContext& ctx, const json& req, AsyncDone done) {
  if (ctx.coordinator == nullptr)
    return done(invalid_request("moving replicas needs a cluster; this broker runs alone"));
  std::string name;
  int64_t partition = 0;
  if (Status s = proto::require_topic(req, name); !s.is_ok()) return done(s);
  if (Status s = proto::require_int(req, "partition", 0, proto::kMaxPartitions, partition); !s.is_ok()) return done(s);
  auto replicas = req.find("replicas");
  if (replicas == req.end() || !(replicas->is_null() || replicas->is_array()))
    return done(invalid_request("\"replicas\" must be an array of node ids, or null to cancel"));
  proto::Json forward = {{"op", "alter_reassignment"}, {"topic", name}, {"partition", partition},
                         {"replicas", *replicas}};
  ctx.coordinator->call(std::move(forward), [name, partition, done](Result<proto::Json> r) {
    if (!r.is_ok()) return done(r.status());
    log::info("reassignment of " + name + "/" + std::to_string(partition) + ": replicas " +
              r->value("replicas", proto::Json::array()).dump());
    // The partition's fields, in the order metadata lists them (not the
    // coordinator's envelope or its log offset).
    json out = {{"topic", name}, {"partition", partition}};
    for (const char* key : {"replicas", "leader", "leader_epoch", "isr", "partition_epoch", "adding", "removing"})
      if (auto it = r->find(key); it != r->end()) out[key] = *it;
    done(out);
  });
}

void admin_create_partitions(BrokerContext& ctx, const json& req, AsyncDone done) {
  std::string name;
  int64_t total = 0;
  if (Status s = proto::require_topic(req, name); !s.is_ok()) return done(s);
  if (Status s = proto::require_int(req, "partitions", 1, proto::kMaxPartitions, total); !s.is_ok()) return done(s);
  if (ctx.logs.is_busy(name))
    return done(Status(Code::kLeaderNotAvailable, "topic \"" + name + "\" is getting new partition logs; try again"));
  const storage::TopicInfo* t = ctx.logs.topic(name);
  if (t == nullptr) return done(Status(Code::kUnknownTopic, "topic \"" + name + "\" does not exist"));
  int32_t was = t->partitions;
  // Checked here too (the coordinator decides in a cluster): without one,
  // and for a clearer message naming both counts.
  if (total <= was)
    return done(invalid_request("topic \"" + name + "\" has " + std::to_string(was) +
                                " partitions; the count can only grow (asked for " + std::to_string(total) + ")"));
  auto answer = [name, total, was] {
    log::info("raised the partition count of topic \"" + name + "\" from " + std::to_string(was) + " to " +
              std::to_string(total));
    return json{{"topic", name}, {"partitions", total}, {"was", was}};
  };
  if (ctx.coordinator == nullptr) {
    auto grown = ctx.logs.add_partitions(name, static_cast<int32_t>(total));
    if (!grown.is_ok()) return done(grown.status());
    return done(answer());
  }
  BrokerContext* c = &ctx;
  ctx.coordinator->call({{"op", "create_partitions"}, {"topic", name}, {"partitions", total}},
                        [c, name, answer, done](Result<proto::Json> r) {
                          if (!r.is_ok()) return done(r.status());
                          c->when_topic_settled(name, [answer, done] { done(answer()); });
                        });
}

void request_topic_creation(BrokerContext& ctx, const std::string& name, std::function<void()> then) {
  // The offsets topic is made only by find_coordinator, with its own settings.
  if (ctx.coordinator == nullptr || name == group::kOffsetsTopic) {
    if (then) then();
    return;
  }
  auto [it, first] = ctx.creating.try_emplace(name);
  if (then) it->second.push_back(std::move(then));
  if (!first) return;  // already asked: wait with the others
  BrokerContext* c = &ctx;
  json forward = {{"op", "create_topic"}, {"topic", name}, {"partitions", ctx.config.default_partitions}};
  ctx.coordinator->call(std::move(forward), [c, name](Result<proto::Json> r) {
    if (r.is_ok()) {
      log::info("created topic \"" + name + "\" with " + std::to_string(c->config.default_partitions) +
                (c->config.default_partitions == 1 ? " partition" : " partitions") + " (auto-create)");
    } else if (r.status().code() != Code::kTopicExists) {
      log::warn("auto-create topic \"" + name + "\": " + r.status().message());
    }
    auto waiting = std::move(c->creating[name]);
    c->creating.erase(name);
    for (auto& cb : waiting) cb();
  });
}

void admin_metadata(BrokerContext& ctx, const json& req, AsyncDone done) {
  // Topics to create first: named, missing, and auto_create asked and allowed.
  std::vector<std::string> missing;
  auto names = req.find("topics");
  if (ctx.coordinator != nullptr && ctx.config.auto_create && json_flag(req, "auto_create") &&
      names != req.end() && names->is_array())
    for (const json& n : *names)
      if (n.is_string() && is_valid_topic_name(n.get<std::string>()) && ctx.logs.topic(n.get<std::string>()) == nullptr)
        missing.push_back(n.get<std::string>());
  if (missing.empty()) return done(handle_metadata(ctx, req));
  // Answer once every creation is done (or failed: the answer then names the
  // topic's error), so a client's first use of a new topic needs no retry.
  auto left = std::make_shared<size_t>(missing.size());
  BrokerContext* c = &ctx;
  for (const std::string& name : missing)
    request_topic_creation(ctx, name, [c, req, done, left] {
      if (--*left == 0) done(handle_metadata(*c, req));
    });
}

}  // namespace kreek::broker
