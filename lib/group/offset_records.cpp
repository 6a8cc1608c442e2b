// The offsets topic's records: canonical JSON keys, versioned JSON values,
// and a strict decoder (a record read back from the log is untrusted input:
// anything not exactly one of the documented forms is CORRUPT_RECORD).
#include "group/offset_records.h"

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "base/json_value.h"
#include "base/topic_name.h"
#include "proto/partitioner.h"

namespace kreek::group {
namespace {

using Json = nlohmann::ordered_json;
inline constexpr int kVersion = 1;

Json assignment_json(const PartitionSet& set) {
  Json out = Json::array();
  for (const TopicPartition& tp : set) {
    if (out.empty() || out.back()["topic"] != tp.topic)
      out.push_back(Json{{"topic", tp.topic}, {"partitions", Json::array()}});
    out.back()["partitions"].push_back(tp.partition);
  }
  return out;
}

// Field readers: each returns false (and names the field) on a wrong type,
// a missing field or a number outside [min, max].
struct Reader {
  const Json& obj;
  std::string problem;

  const Json* field(const char* name) {
    auto it = obj.find(name);
    if (it == obj.end()) {
      problem = std::string("missing \"") + name + "\"";
      return nullptr;
    }
    return &*it;
  }
  bool int_in(const char* name, int64_t min, int64_t max, int64_t& out) {
    const Json* j = field(name);
    if (!j) return false;
    std::optional<int64_t> v = json_int_in(*j, min, max);
    if (!v) return bad(name);
    out = *v;
    return true;
  }
  bool str(const char* name, std::string& out) {
    const Json* j = field(name);
    if (!j) return false;
    if (!j->is_string()) return bad(name);
    out = j->get<std::string>();
    return true;
  }
  bool strings(const char* name, std::vector<std::string>& out) {
    const Json* j = field(name);
    if (!j) return false;
    if (!j->is_array()) return bad(name);
    for (const Json& s : *j) {
      if (!s.is_string()) return bad(name);
      out.push_back(s.get<std::string>());
    }
    return true;
  }
  bool bad(const char* name) {
    problem = std::string("bad \"") + name + "\"";
    return false;
  }
};

Status corrupt_record(std::string_view what, const std::string& problem) {
  return corrupt("decode offsets topic " + std::string(what) + ": " + problem);
}

Result<PartitionSet> decode_assignment(const Json& j) {
  if (!j.is_array()) return corrupt_record("group record", "bad \"assignment\"");
  PartitionSet out;
  for (const Json& t : j) {
    if (!t.is_object() || t.size() != 2) return corrupt_record("group record", "bad assignment entry");
    Reader r{t, {}};
    std::string topic;
    if (!r.str("topic", topic)) return corrupt_record("group record", r.problem);
    if (!topic_name_problem(topic).empty()) return corrupt_record("group record", "bad assignment topic");
    const Json* ps = r.field("partitions");
    if (!ps || !ps->is_array()) return corrupt_record("group record", "bad \"partitions\"");
    for (const Json& p : *ps) {
      if (!p.is_number_integer() || (p.is_number_unsigned() && p.get<uint64_t>() > INT32_MAX) ||
          p.get<int64_t>() < 0 || p.get<int64_t>() > INT32_MAX)
        return corrupt_record("group record", "bad partition in assignment");
      if (!out.insert({topic, static_cast<int32_t>(p.get<int64_t>())}).second)
        return corrupt_record("group record", "partition listed twice");
    }
  }
  return out;
}

Result<MemberRecord> decode_member(const Json& j) {
  if (!j.is_object() || j.size() != 9) return corrupt_record("group record", "member is not one object of 9 fields");
  Reader r{j, {}};
  MemberRecord m;
  if (!r.str("member_id", m.member_id) || !r.str("instance_id", m.instance_id) ||
      !r.str("client_id", m.client_id) || !r.str("host", m.host) || !r.strings("topics", m.topics) ||
      !r.strings("assignors", m.assignors) ||
      !r.int_in("session_timeout_ms", 0, std::numeric_limits<int64_t>::max(), m.session_timeout_ms) ||
      !r.int_in("rebalance_timeout_ms", 0, std::numeric_limits<int64_t>::max(), m.rebalance_timeout_ms))
    return corrupt_record("group record", r.problem);
  if (m.member_id.empty()) return corrupt_record("group record", "empty member id");
  const Json* a = r.field("assignment");
  if (!a) return corrupt_record("group record", r.problem);
  KREEK_ASSIGN_OR_RETURN(m.assignment, decode_assignment(*a));
  return m;
}

Result<GroupRecord> decode_group_value(const Json& j, std::string group) {
  Reader r{j, {}};
  int64_t generation = 0;
  GroupRecord g;
  g.group = std::move(group);
  if (!r.int_in("generation", 0, INT32_MAX, generation) || !r.str("assignor", g.assignor))
    return corrupt_record("group record", r.problem);
  g.generation = static_cast<int32_t>(generation);
  const Json* ms = r.field("members");
  if (!ms || !ms->is_array()) return corrupt_record("group record", "bad \"members\"");
  if (!g.assignor.empty() && !assignor_from_name(g.assignor)) return corrupt_record("group record", "unknown assignor");
  std::set<std::string> ids;
  PartitionSet assigned;
  for (const Json& mj : *ms) {
    KREEK_ASSIGN_OR_RETURN(MemberRecord m, decode_member(mj));
    if (!ids.insert(m.member_id).second) return corrupt_record("group record", "member listed twice");
    for (const TopicPartition& tp : m.assignment)
      if (!assigned.insert(tp).second) return corrupt_record("group record", "partition assigned twice");
    g.members.push_back(std::move(m));
  }
  return g;
}

Result<CommittedOffset> decode_offset_value(const Json& j) {
  Reader r{j, {}};
  CommittedOffset o;
  if (!r.int_in("offset", 0, std::numeric_limits<int64_t>::max(), o.offset) || !r.str("metadata", o.metadata) ||
      !r.int_in("commit_ts_ms", 0, std::numeric_limits<int64_t>::max(), o.commit_ts_ms))
    return corrupt_record("offset record", r.problem);
  return o;
}

// A JSON object with "v":1, or why not.
Result<Json> parse_versioned(std::string_view text, std::string_view what) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return corrupt_record(what, "not a JSON object");
  Reader r{j, {}};
  int64_t v = 0;
  if (!r.int_in("v", kVersion, kVersion, v)) return corrupt_record(what, "unknown version");
  return j;
}

}  // namespace

int32_t group_partition(std::string_view group, int32_t partitions) {
  if (partitions <= 0) return 0;
  return proto::to_positive(proto::murmur2(group)) % partitions;
}

std::string group_name_problem(std::string_view group) {
  std::string p = topic_name_problem(group);
  // The same rule, named for what it checks here.
  if (!p.empty()) p.replace(p.find("topic"), 5, "group");
  return p;
}

std::string offset_key(std::string_view group, const TopicPartition& tp) {
  return Json{{"v", kVersion}, {"group", std::string(group)}, {"topic", tp.topic}, {"partition", tp.partition}}.dump();
}

std::string group_key(std::string_view group) { return Json{{"v", kVersion}, {"group", std::string(group)}}.dump(); }

std::string encode_offset(const CommittedOffset& offset) {
  return Json{{"v", kVersion},
              {"offset", offset.offset},
              {"metadata", offset.metadata},
              {"commit_ts_ms", offset.commit_ts_ms}}
      .dump();
}

std::string encode_group(const GroupRecord& record) {
  Json members = Json::array();
  for (const MemberRecord& m : record.members)
    members.push_back(Json{{"member_id", m.member_id},
                           {"instance_id", m.instance_id},
                           {"client_id", m.client_id},
                           {"host", m.host},
                           {"topics", m.topics},
                           {"assignors", m.assignors},
                           {"session_timeout_ms", m.session_timeout_ms},
                           {"rebalance_timeout_ms", m.rebalance_timeout_ms},
                           {"assignment", assignment_json(m.assignment)}});
  return Json{{"v", kVersion}, {"generation", record.generation}, {"assignor", record.assignor}, {"members", members}}
      .dump();
}

Result<OffsetsTopicRecord> decode_record(std::string_view key, std::optional<std::string_view> value) {
  KREEK_ASSIGN_OR_RETURN(Json k, parse_versioned(key, "key"));
  Reader r{k, {}};
  OffsetsTopicRecord out;
  if (!r.str("group", out.group)) return corrupt_record("key", r.problem);
  if (!group_name_problem(out.group).empty()) return corrupt_record("key", "bad group name");
  if (k.size() == 2) {
    out.kind = OffsetsTopicRecord::Kind::kGroup;
  } else {
    int64_t partition = 0;
    if (!r.str("topic", out.tp.topic) || !r.int_in("partition", 0, INT32_MAX, partition))
      return corrupt_record("key", r.problem);
    if (!topic_name_problem(out.tp.topic).empty()) return corrupt_record("key", "bad topic name");
    out.tp.partition = static_cast<int32_t>(partition);
  }
  // Compaction keeps one value per key byte string, so only the canonical
  // spelling of a key is one (this also refuses unknown fields).
  const std::string canonical =
      out.kind == OffsetsTopicRecord::Kind::kGroup ? group_key(out.group) : offset_key(out.group, out.tp);
  if (canonical != key) return corrupt_record("key", "not in canonical form");
  if (!value) return out;  // a tombstone
  const char* what = out.kind == OffsetsTopicRecord::Kind::kGroup ? "group record" : "offset record";
  KREEK_ASSIGN_OR_RETURN(Json v, parse_versioned(*value, what));
  if (out.kind == OffsetsTopicRecord::Kind::kGroup) {
    if (v.size() != 4) return corrupt_record(what, "unexpected fields");
    KREEK_ASSIGN_OR_RETURN(GroupRecord g, decode_group_value(v, out.group));
    out.record = std::move(g);
  } else {
    if (v.size() != 4) return corrupt_record(what, "unexpected fields");
    KREEK_ASSIGN_OR_RETURN(CommittedOffset o, decode_offset_value(v));
    out.offset = std::move(o);
  }
  return out;
}

}  // namespace kreek::group
