// Group ops: request validation and answer shapes; see group_ops.h. The
// decisions are the GroupCoordinator's (and, below it, group::GroupState's).
#include "broker/group_ops.h"

#include <limits>
#include <set>

#include "base/topic_name.h"
#include "broker/broker_context.h"
#include "broker/group_coordinator.h"
#include "proto/request_fields.h"

namespace kreek::broker {

using json = nlohmann::ordered_json;
using proto::read_int, proto::require_int;

namespace {

constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();
// Bounds on what one request may carry, so a client cannot make the
// coordinator hold (or write into one record) arbitrarily much.
constexpr size_t kMaxMemberIdBytes = 512;
constexpr size_t kMaxTopicsPerMember = 1000;
constexpr size_t kMaxAssignors = 8;
constexpr size_t kMaxOffsetsPerCommit = 10000;
constexpr size_t kMaxMetadataBytes = 4096;  // Kafka's offset.metadata.max.bytes

std::string in_quotes(std::string_view field) { return "\"" + std::string(field) + "\""; }

Status require_group(const json& req, std::string& out) {
  auto it = req.find("group");
  if (it == req.end() || it->is_null()) return invalid_request("missing \"group\"");
  if (!it->is_string()) return invalid_request("\"group\" must be a string");
  out = it->get<std::string>();
  std::string why = group::group_name_problem(out);
  return why.empty() ? Status::ok() : invalid_request(why);
}

// A string field: `required` (else "" when absent or null), at most `max` bytes.
Status read_string(const json& req, const char* field, bool required, size_t max, std::string& out) {
  out.clear();
  auto it = req.find(field);
  if (it == req.end() || it->is_null()) {
    return required ? invalid_request("missing " + in_quotes(field)) : Status::ok();
  }
  if (!it->is_string()) return invalid_request(in_quotes(field) + " must be a string");
  out = it->get<std::string>();
  if (out.size() > max) return invalid_request(in_quotes(field) + " is longer than " + std::to_string(max) + " bytes");
  return Status::ok();
}

// A name-like field (client_id, instance_id): the topic-name rule.
Status read_name(const json& req, const char* field, std::string& out) {
  KREEK_RETURN_IF_ERROR(read_string(req, field, false, kMaxTopicNameLength, out));
  if (!out.empty() && !is_valid_topic_name(out))
    return invalid_request(in_quotes(field) + " must be 1 to 249 of [A-Za-z0-9._-], not \".\" or \"..\"");
  return Status::ok();
}

Status require_member(const json& req, bool allow_empty, std::string& out) {
  KREEK_RETURN_IF_ERROR(read_string(req, "member_id", true, kMaxMemberIdBytes, out));
  if (out.empty() && !allow_empty) return invalid_request("\"member_id\" must not be empty");
  return Status::ok();
}

Status require_generation(const json& req, int32_t& out) {
  int64_t g = 0;
  KREEK_RETURN_IF_ERROR(require_int(req, "generation", -1, kMaxInt32, g));
  out = static_cast<int32_t>(g);
  return Status::ok();
}

// An array of distinct topic names; `field` absent or null: nullopt.
Status read_topics(const json& req, const char* field, std::optional<std::vector<std::string>>& out) {
  out.reset();
  auto it = req.find(field);
  if (it == req.end() || it->is_null()) return Status::ok();
  if (!it->is_array() || it->empty() || it->size() > kMaxTopicsPerMember)
    return invalid_request(in_quotes(field) + " must be an array of 1 to " + std::to_string(kMaxTopicsPerMember) +
                           " topic names");
  std::set<std::string> seen;
  out.emplace();
  for (const json& t : *it) {
    if (!t.is_string()) return invalid_request(in_quotes(field) + " must be an array of topic names");
    std::string name = t.get<std::string>();
    if (std::string why = topic_name_problem(name); !why.empty()) return invalid_request(in_quotes(field) + ": " + why);
    if (!seen.insert(name).second) return invalid_request(in_quotes(field) + " names topic \"" + name + "\" twice");
    out->push_back(std::move(name));
  }
  return Status::ok();
}

// [{"topic":T,"partitions":[P,...]}, ...] -> a PartitionSet (no repeats).
Status read_partition_set(const json& req, const char* field, group::PartitionSet& out) {
  out.clear();
  auto it = req.find(field);
  if (it == req.end() || it->is_null()) return Status::ok();
  const std::string shape = in_quotes(field) + " must be an array of {\"topic\":T,\"partitions\":[P,...]}";
  if (!it->is_array()) return invalid_request(shape);
  for (const json& e : *it) {
    if (!e.is_object()) return invalid_request(shape);
    std::string topic;
    if (Status s = proto::require_topic(e, topic); !s.is_ok()) return s.with_context(field);
    auto ps = e.find("partitions");
    if (ps == e.end() || !ps->is_array()) return invalid_request(shape);
    for (const json& p : *ps) {
      if (!p.is_number_integer() || p.get<int64_t>() < 0 || p.get<int64_t>() >= kMaxPartitions)
        return invalid_request(in_quotes(field) + ": partitions must be integers from 0 to " +
                               std::to_string(kMaxPartitions - 1));
      group::TopicPartition tp{topic, static_cast<int32_t>(p.get<int64_t>())};
      if (!out.insert(tp).second)
        return invalid_request(in_quotes(field) + " names " + topic + "/" + std::to_string(tp.partition) + " twice");
    }
  }
  return Status::ok();
}

json partition_set_json(const group::PartitionSet& set) {
  json out = json::array();
  for (const group::TopicPartition& tp : set) {
    if (out.empty() || out.back()["topic"] != tp.topic) out.push_back({{"topic", tp.topic}, {"partitions", json::array()}});
    out.back()["partitions"].push_back(tp.partition);
  }
  return out;
}

GroupCoordinator& coordinator(BrokerContext& ctx) { return *ctx.groups; }

// Answers a synchronous step: {} or the error.
void answer_status(const AsyncDone& done, const Status& s) {
  if (!s.is_ok()) return done(s);
  done(json::object());
}

// --- the ops ----------------------------------------------------------------

void find_coordinator_op(BrokerContext& ctx, const Request&, const json& req, AsyncDone done) {
  std::string group;
  if (Status s = require_group(req, group); !s.is_ok()) return done(s);
  coordinator(ctx).find_coordinator(group, std::move(done));
}

void join_group_op(BrokerContext& ctx, const Request& r, const json& req, AsyncDone done) {
  std::string group;
  group::JoinRequest j;
  if (Status s = require_group(req, group); !s.is_ok()) return done(s);
  if (Status s = require_member(req, /*allow_empty=*/true, j.member_id); !s.is_ok()) return done(s);
  if (Status s = read_name(req, "instance_id", j.instance_id); !s.is_ok()) return done(s);
  if (Status s = read_name(req, "client_id", j.client_id); !s.is_ok()) return done(s);
  if (j.client_id.empty()) j.client_id = "consumer";
  std::optional<std::vector<std::string>> topics;
  if (Status s = read_topics(req, "topics", topics); !s.is_ok()) return done(s);
  if (!topics) return done(invalid_request("missing \"topics\""));
  j.topics = std::move(*topics);
  auto as = req.find("assignors");
  if (as == req.end() || as->is_null()) return done(invalid_request("missing \"assignors\""));
  if (!as->is_array() || as->empty() || as->size() > kMaxAssignors)
    return done(invalid_request("\"assignors\" must be an array of 1 to " + std::to_string(kMaxAssignors) +
                                " assignor names"));
  for (const json& a : *as) {
    if (!a.is_string() || !group::assignor_from_name(a.get<std::string>()))
      return done(invalid_request("\"assignors\": unknown assignor " + (a.is_string() ? in_quotes(a.get<std::string>()) : a.dump()) +
                                  " (known: range, roundrobin, sticky, cooperative-sticky)"));
    for (const std::string& seen : j.assignors)
      if (seen == a.get<std::string>()) return done(invalid_request("\"assignors\" names \"" + seen + "\" twice"));
    j.assignors.push_back(a.get<std::string>());
  }
  if (Status s = read_partition_set(req, "owned", j.owned); !s.is_ok()) return done(s);
  std::optional<int64_t> session, rebalance;
  if (Status s = read_int(req, "session_timeout_ms", 1, kMaxInt32, session); !s.is_ok()) return done(s);
  if (Status s = read_int(req, "rebalance_timeout_ms", 1, kMaxInt32, rebalance); !s.is_ok()) return done(s);
  j.session_timeout_ms = session.value_or(10000);
  j.rebalance_timeout_ms = rebalance.value_or(30000);
  j.host = std::string(r.peer);
  coordinator(ctx).join(group, std::move(j), [done = std::move(done)](const group::JoinAnswer& a) {
    if (!a.status.is_ok()) return done(a.status);
    done(json{{"generation", a.generation}, {"member_id", a.member_id}, {"assignor", a.assignor}});
  });
}

void sync_group_op(BrokerContext& ctx, const Request&, const json& req, AsyncDone done) {
  std::string group, member;
  int32_t generation = 0;
  if (Status s = require_group(req, group); !s.is_ok()) return done(s);
  if (Status s = require_member(req, false, member); !s.is_ok()) return done(s);
  if (Status s = require_generation(req, generation); !s.is_ok()) return done(s);
  auto assignment = coordinator(ctx).sync(group, member, generation);
  if (!assignment.is_ok()) return done(assignment.status());
  done(json{{"generation", generation}, {"assignment", partition_set_json(*assignment)}});
}

void heartbeat_op(BrokerContext& ctx, const Request&, const json& req, AsyncDone done) {
  std::string group, member;
  int32_t generation = 0;
  if (Status s = require_group(req, group); !s.is_ok()) return done(s);
  if (Status s = require_member(req, false, member); !s.is_ok()) return done(s);
  if (Status s = require_generation(req, generation); !s.is_ok()) return done(s);
  answer_status(done, coordinator(ctx).heartbeat(group, member, generation));
}

void leave_group_op(BrokerContext& ctx, const Request&, const json& req, AsyncDone done) {
  std::string group, member;
  if (Status s = require_group(req, group); !s.is_ok()) return done(s);
  if (Status s = require_member(req, false, member); !s.is_ok()) return done(s);
  answer_status(done, coordinator(ctx).leave(group, member));
}

void commit_offsets_op(BrokerContext& ctx, const Request&, const json& req, AsyncDone done) {
  std::string group, member;
  int32_t generation = 0;
  if (Status s = require_group(req, group); !s.is_ok()) return done(s);
  if (Status s = require_member(req, true, member); !s.is_ok()) return done(s);
  if (Status s = require_generation(req, generation); !s.is_ok()) return done(s);
  auto it = req.find("offsets");
  if (it == req.end() || it->is_null()) return done(invalid_request("missing \"offsets\""));
  const std::string shape = "\"offsets\" must be an array of 1 to " + std::to_string(kMaxOffsetsPerCommit) +
                            " {\"topic\":T,\"partition\":P,\"offset\":O,\"metadata\":S}";
  if (!it->is_array() || it->empty() || it->size() > kMaxOffsetsPerCommit) return done(invalid_request(shape));
  GroupCoordinator::Offsets offsets;
  std::set<group::TopicPartition> seen;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& e = (*it)[i];
    std::string ctx_name = "offsets[" + std::to_string(i) + "]";
    if (!e.is_object()) return done(invalid_request(shape));
    group::TopicPartition tp;
    int64_t p = 0;
    group::CommittedOffset off;
    if (Status s = proto::require_topic(e, tp.topic); !s.is_ok()) return done(s.with_context(ctx_name));
    if (Status s = require_int(e, "partition", 0, kMaxInt32, p); !s.is_ok()) return done(s.with_context(ctx_name));
    if (Status s = require_int(e, "offset", 0, std::numeric_limits<int64_t>::max(), off.offset); !s.is_ok())
      return done(s.with_context(ctx_name));
    if (Status s = read_string(e, "metadata", false, kMaxMetadataBytes, off.metadata); !s.is_ok())
      return done(s.with_context(ctx_name));
    tp.partition = static_cast<int32_t>(p);
    if (!seen.insert(tp).second)
      return done(invalid_request("\"offsets\" names " + tp.topic + "/" + std::to_string(tp.partition) + " twice"));
    offsets.emplace_back(std::move(tp), std::move(off));
  }
  if (member.empty() != (generation == -1))
    return done(invalid_request(member.empty()
                                    ? "a commit without \"member_id\" (an admin reset) must give \"generation\" -1"
                                    : "a member's commit must give its generation, not -1"));
  coordinator(ctx).commit(group, member, generation, std::move(offsets),
                          [done = std::move(done)](Status s) { answer_status(done, s); });
}

void fetch_offsets_op(BrokerContext& ctx, const Request&, const json& req, AsyncDone done) {
  std::string group;
  std::optional<std::vector<std::string>> topics;
  if (Status s = require_group(req, group); !s.is_ok()) return done(s);
  if (Status s = read_topics(req, "topics", topics); !s.is_ok()) return done(s);
  if (Status s = coordinator(ctx).check_coordinator(group); !s.is_ok()) return done(s);
  std::set<std::string> wanted;
  if (topics) wanted.insert(topics->begin(), topics->end());
  json offsets = json::array();
  if (const group::GroupState* g = coordinator(ctx).find(group)) {
    for (const auto& [tp, off] : g->offsets()) {
      if (topics && wanted.count(tp.topic) == 0) continue;
      offsets.push_back(
          {{"topic", tp.topic}, {"partition", tp.partition}, {"offset", off.offset}, {"metadata", off.metadata}});
    }
  }
  done(json{{"offsets", offsets}});
}

void list_groups_op(BrokerContext& ctx, const Request&, const json&, AsyncDone done) {
  json groups = json::array();
  for (const group::GroupState* g : coordinator(ctx).groups())
    groups.push_back({{"group", g->name()},
                      {"state", std::string(group::phase_name(g->phase()))},
                      {"members", g->members().size()}});
  done(json{{"groups", groups}});
}

void describe_group_op(BrokerContext& ctx, const Request&, const json& req, AsyncDone done) {
  std::string group;
  if (Status s = require_group(req, group); !s.is_ok()) return done(s);
  if (Status s = coordinator(ctx).check_coordinator(group); !s.is_ok()) return done(s);
  const group::GroupState* g = coordinator(ctx).find(group);
  if (g == nullptr || g->phase() == group::GroupPhase::kDead || (g->members().empty() && g->offsets().empty()))
    return done(Status(Code::kGroupNotFound, "group \"" + group + "\" does not exist"));
  json members = json::array();
  for (const auto& [id, m] : g->members()) {
    members.push_back({{"member_id", m.id},
                       {"instance_id", m.instance_id.empty() ? json(nullptr) : json(m.instance_id)},
                       {"client_id", m.client_id},
                       {"host", m.host},
                       {"topics", m.topics},
                       {"assignment", partition_set_json(m.assignment)}});
  }
  json offsets = json::array();
  for (const auto& [tp, off] : g->offsets())
    offsets.push_back({{"topic", tp.topic}, {"partition", tp.partition}, {"offset", off.offset}});
  done(json{{"group", g->name()},
            {"state", std::string(group::phase_name(g->phase()))},
            {"generation", g->generation()},
            {"assignor", g->assignor()},
            {"coordinator", ctx.partitions.self().value()},
            {"members", members},
            {"offsets", offsets}});
}

void delete_group_op(BrokerContext& ctx, const Request&, const json& req, AsyncDone done) {
  std::string group;
  if (Status s = require_group(req, group); !s.is_ok()) return done(s);
  coordinator(ctx).delete_group(group, [done = std::move(done)](Status s) { answer_status(done, s); });
}

struct GroupOpEntry {
  std::string_view name;
  GroupOpHandler handler;
};
constexpr GroupOpEntry kGroupOps[] = {
    {"find_coordinator", find_coordinator_op}, {"join_group", join_group_op},
    {"sync_group", sync_group_op},             {"heartbeat", heartbeat_op},
    {"leave_group", leave_group_op},           {"commit_offsets", commit_offsets_op},
    {"fetch_offsets", fetch_offsets_op},       {"list_groups", list_groups_op},
    {"describe_group", describe_group_op},     {"delete_group", delete_group_op},
};

}  // namespace

GroupOpHandler group_op(std::string_view op) {
  for (const GroupOpEntry& e : kGroupOps)
    if (e.name == op) return e.handler;
  return nullptr;
}

Status check_internal_topic_use(std::string_view op, std::string_view topic) {
  if (topic != group::kOffsetsTopic) return Status::ok();
  if (op == "produce")
    return invalid_request(std::string(group::kOffsetsTopic) + " is internal: only group coordinators write to it");
  if (op == "delete_topic")
    return invalid_request(std::string(group::kOffsetsTopic) + " is internal: it holds every group's offsets and cannot be deleted");
  if (op == "create_topic")
    return invalid_request(std::string(group::kOffsetsTopic) + " is internal: brokers create it on the first find_coordinator");
  return Status::ok();
}

}  // namespace kreek::broker
