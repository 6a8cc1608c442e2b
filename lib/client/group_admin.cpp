// Group administration: fan-out list, describe with lag, reset plans.
#include "client/group_admin.h"

#include <algorithm>
#include <map>
#include <set>

#include "base/json_value.h"
#include "client/consumer.h"
#include "client/json_field.h"

namespace kreek::client {
namespace {

GroupMember admin_member(Cluster& cluster, const std::string& group) {
  GroupMemberOptions o;
  o.group = group;
  o.client_id = "ktopic";
  o.retry_for_ms = 15'000;  // a coordinator moving after a broker died
  return GroupMember(cluster, std::move(o));
}

// list_offsets for several partitions of one topic: {partition -> answer}.
Result<std::map<int32_t, PartitionOffsets>> offsets_at(Cluster& cluster, const std::string& topic,
                                                       const std::vector<int32_t>& parts, const std::string& at) {
  ConsumerOptions o;
  o.topic = topic;
  Consumer consumer(cluster, o);
  std::map<int32_t, PartitionOffsets> out;
  for (int attempt = 0;; ++attempt) {
    auto r = consumer.list_offsets(topic, parts, at);
    if (r.is_ok()) {
      for (const auto& po : *r) out[po.partition] = po;
      return out;
    }
    if (!is_retriable(r.status().code()) || attempt >= cluster.options().max_retries) return r.status();
    if (!cluster.backoff(attempt)) return Status(Code::kTimeout, "interrupted");
    (void)cluster.topic(topic, false, /*refresh=*/true);
  }
}

Result<int32_t> partition_count(Cluster& cluster, const std::string& topic) {
  KREEK_ASSIGN_OR_RETURN(const TopicMeta* t, cluster.topic(topic, /*auto_create=*/false, /*refresh=*/true));
  return t->partition_count();
}

}  // namespace

Result<proto::Json> list_groups(Cluster& cluster, std::vector<Status>* missed) {
  std::vector<std::string> addrs;
  auto described = cluster.call({{"op", "describe_cluster"}});
  if (described.is_ok()) {
    for (const auto& b : described->value("brokers", proto::Json::array()))
      if (b.is_object() && json_string_or(b, "state", "live") == "live" && b.contains("addr") &&
          b["addr"].is_string())
        addrs.push_back(b["addr"].get<std::string>());
  }
  std::map<std::string, proto::Json> groups;
  auto take = [&](const proto::Json& answer) {
    for (const auto& g : answer.value("groups", proto::Json::array()))
      if (g.is_object() && g.contains("group") && g["group"].is_string()) groups[g["group"].get<std::string>()] = g;
  };
  if (addrs.empty()) {  // a broker without describe_cluster: ask it alone
    KREEK_ASSIGN_OR_RETURN(proto::Json r, cluster.call({{"op", "list_groups"}}));
    take(r);
  }
  for (const auto& addr : addrs) {
    auto conn = cluster.connection(addr);
    Result<proto::Json> r = conn.is_ok() ? cluster.call_on(**conn, {{"op", "list_groups"}, {"id", cluster.next_id()}},
                                                           cluster.options().request_timeout_ms)
                                         : Result<proto::Json>(conn.status());
    if (!r.is_ok()) {
      if (conn.is_ok() && (*conn)->is_broken()) cluster.drop(addr);
      if (missed) missed->push_back(r.status().with_context("list groups on " + addr));
      continue;
    }
    take(*r);
  }
  proto::Json out = proto::Json::array();
  for (auto& [name, g] : groups) out.push_back(std::move(g));
  return out;
}

Result<GroupDescription> describe_group(Cluster& cluster, const std::string& group) {
  GroupMember admin = admin_member(cluster, group);
  KREEK_ASSIGN_OR_RETURN(proto::Json d, admin.call({{"op", "describe_group"}, {"group", group}}));
  d.erase("id");
  d.erase("ok");
  GroupDescription out;
  // Who holds what, and which topics matter.
  std::map<TopicPartition, const proto::Json*> holder;
  std::set<std::string> topics;
  const proto::Json members = d.value("members", proto::Json::array());
  for (const auto& m : members) {
    if (!m.is_object()) return Status(Code::kProtocol, "malformed describe_group response: a member is not an object");
    KREEK_ASSIGN_OR_RETURN(PartitionSet a, parse_assignment(m.value("assignment", proto::Json()), "describe_group response"));
    for (const auto& tp : a) {
      holder[tp] = &m;
      topics.insert(tp.topic);
    }
    for (const auto& t : m.value("topics", proto::Json::array()))
      if (t.is_string()) topics.insert(t.get<std::string>());
  }
  KREEK_ASSIGN_OR_RETURN(GroupOffsets committed, parse_offsets(d.value("offsets", proto::Json()), "describe_group response"));
  for (const auto& [tp, _] : committed) topics.insert(tp.topic);
  for (const auto& topic : topics) {
    auto count = partition_count(cluster, topic);
    std::vector<int32_t> parts;
    if (count.is_ok()) {
      for (int32_t p = 0; p < *count; ++p) parts.push_back(p);
    } else {  // a deleted topic still shows its committed offsets
      for (const auto& [tp, _] : committed)
        if (tp.topic == topic) parts.push_back(tp.partition);
    }
    std::map<int32_t, PartitionOffsets> ends;
    if (count.is_ok()) {
      auto e = offsets_at(cluster, topic, parts, "latest");
      if (e.is_ok()) ends = std::move(e).value();
      else out.missed.push_back(e.status().with_context("end offsets of " + topic));
    }
    for (int32_t p : parts) {
      GroupPartitionRow row;
      row.tp = TopicPartition{topic, p};
      if (auto it = committed.find(row.tp); it != committed.end() && it->second.offset >= 0)
        row.committed = it->second.offset;
      if (auto it = ends.find(p); it != ends.end()) row.end = it->second.offset;
      if (row.committed && row.end) row.lag = std::max<int64_t>(0, *row.end - *row.committed);
      if (auto it = holder.find(row.tp); it != holder.end()) {
        const proto::Json& m = *it->second;
        auto str = [&](const char* k) { return m.contains(k) && m[k].is_string() ? m[k].get<std::string>() : std::string(); };
        row.member_id = str("member_id");
        row.instance_id = str("instance_id");
        row.client_id = str("client_id");
        row.host = str("host");
      }
      out.partitions.push_back(std::move(row));
    }
  }
  out.group = std::move(d);
  return out;
}

Result<int> group_member_count(Cluster& cluster, const std::string& group) {
  GroupMember admin = admin_member(cluster, group);
  auto d = admin.call({{"op", "describe_group"}, {"group", group}});
  if (!d.is_ok()) {
    if (d.status().code() == Code::kGroupNotFound) return 0;
    return d.status();
  }
  auto m = d->value("members", proto::Json::array());
  return m.is_array() ? static_cast<int>(m.size()) : 0;
}

Result<std::vector<ResetRow>> plan_reset(Cluster& cluster, const std::string& group, const ResetSpec& spec,
                                         const std::vector<ResetTarget>& targets) {
  GroupMember admin = admin_member(cluster, group);
  std::vector<std::string> topics;
  for (const auto& t : targets) topics.push_back(t.topic);
  KREEK_ASSIGN_OR_RETURN(GroupOffsets committed, admin.fetch_offsets(topics));
  // topic -> partitions to reset
  std::map<std::string, std::vector<int32_t>> scope;
  if (targets.empty()) {
    for (const auto& [tp, _] : committed) scope[tp.topic].push_back(tp.partition);
    if (scope.empty())
      return invalid_request("group " + group + " has no committed offsets: name the topics with --topic");
  }
  for (const auto& t : targets) {
    KREEK_ASSIGN_OR_RETURN(int32_t count, partition_count(cluster, t.topic));
    auto& parts = scope[t.topic];
    if (t.partitions.empty()) {
      for (int32_t p = 0; p < count; ++p) parts.push_back(p);
    }
    for (int32_t p : t.partitions) {
      if (p < 0 || p >= count)
        return Status(Code::kUnknownPartition, "topic \"" + t.topic + "\" has no partition " + std::to_string(p));
      parts.push_back(p);
    }
  }
  std::vector<ResetRow> plan;
  for (auto& [topic, parts] : scope) {
    std::sort(parts.begin(), parts.end());
    parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
    KREEK_ASSIGN_OR_RETURN(auto ends, offsets_at(cluster, topic, parts, "latest"));
    std::map<int32_t, PartitionOffsets> at_time;
    if (spec.kind == ResetSpec::Kind::kTime) {
      KREEK_ASSIGN_OR_RETURN(at_time, offsets_at(cluster, topic, parts, std::to_string(spec.value)));
    }
    for (int32_t p : parts) {
      ResetRow row;
      row.tp = TopicPartition{topic, p};
      auto e = ends.find(p);
      if (e == ends.end())
        return Status(Code::kProtocol, "list_offsets for " + topic + "/" + std::to_string(p) + " gave no answer");
      row.log_start = e->second.log_start;
      row.end = e->second.offset;
      if (auto c = committed.find(row.tp); c != committed.end() && c->second.offset >= 0) row.current = c->second.offset;
      int64_t want = 0;
      switch (spec.kind) {
        case ResetSpec::Kind::kEarliest: want = row.log_start; break;
        case ResetSpec::Kind::kLatest: want = row.end; break;
        case ResetSpec::Kind::kOffset: want = spec.value; break;
        case ResetSpec::Kind::kTime: want = at_time.count(p) ? at_time[p].offset : row.end; break;
        case ResetSpec::Kind::kShift: want = row.current.value_or(row.log_start) + spec.value; break;
      }
      row.target = std::clamp(want, row.log_start, row.end);
      plan.push_back(row);
    }
  }
  return plan;
}

Status apply_reset(Cluster& cluster, const std::string& group, const std::vector<ResetRow>& plan) {
  GroupMember admin = admin_member(cluster, group);
  GroupOffsets offsets;
  for (const auto& r : plan) offsets[r.tp] = GroupOffset{r.target, ""};
  Status s = admin.commit(offsets);
  if (s.code() == Code::kGroupNotEmpty)
    return Status(s.code(), "group " + group + " has live members; stop them (or wait for their session to end) "
                            "before resetting its offsets");
  return s;
}

Status delete_group(Cluster& cluster, const std::string& group) {
  GroupMember admin = admin_member(cluster, group);
  Status s = admin.call({{"op", "delete_group"}, {"group", group}}).status();
  if (s.code() == Code::kGroupNotEmpty)
    return Status(s.code(), "group " + group + " has live members; stop them before deleting it");
  return s;
}

}  // namespace kreek::client
