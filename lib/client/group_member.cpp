// GroupMember: the group ops on the coordinator's connection, and the retry
// rule for coordinator errors (find_coordinator again, back off, resend).
#include "client/group_member.h"

#include <poll.h>

#include <algorithm>
#include <limits>

#include "base/clock.h"
#include "client/interrupt.h"
#include "client/json_field.h"
#include "client/reply.h"

namespace kreek::client {
namespace {

constexpr int64_t kMaxI64 = std::numeric_limits<int64_t>::max();
constexpr int64_t kMaxI32 = std::numeric_limits<int32_t>::max();

Status malformed(std::string_view what, const std::string& why) {
  return Status(Code::kProtocol, "malformed " + std::string(what) + ": " + why);
}

}  // namespace

int64_t heartbeat_interval_ms(int64_t session_timeout_ms) {
  return std::clamp<int64_t>(session_timeout_ms / 3, 1, 1000);
}

bool is_cooperative_assignor(std::string_view name) { return name == "cooperative-sticky"; }

bool is_coordinator_error(Code code) {
  return code == Code::kNotCoordinator || code == Code::kCoordinatorNotAvailable ||
         code == Code::kCoordinatorLoading || code == Code::kUnavailable || code == Code::kTimeout ||
         code == Code::kNotEnoughReplicas || code == Code::kRequestTimedOut;
}

Result<PartitionSet> parse_assignment(const proto::Json& j, std::string_view what) {
  PartitionSet out;
  if (j.is_null()) return out;
  if (!j.is_array()) return malformed(what, "assignment is not an array");
  for (const auto& t : j) {
    if (!t.is_object() || !t.contains("topic") || !t["topic"].is_string() || !t.contains("partitions") ||
        !t["partitions"].is_array())
      return malformed(what, "assignment entry is not {topic, partitions}");
    for (const auto& p : t["partitions"]) {
      if (!p.is_number_integer() || p.get<int64_t>() < 0 || p.get<int64_t>() > kMaxI32)
        return malformed(what, "partition is not an integer in [0, 2147483647]");
      out.insert(TopicPartition{t["topic"].get<std::string>(), p.get<int32_t>()});
    }
  }
  return out;
}

Result<GroupOffsets> parse_offsets(const proto::Json& j, std::string_view what) {
  GroupOffsets out;
  if (j.is_null()) return out;
  if (!j.is_array()) return malformed(what, "offsets is not an array");
  for (const auto& o : j) {
    if (!o.is_object() || !o.contains("topic") || !o["topic"].is_string())
      return malformed(what, "offsets entry has no topic");
    KREEK_ASSIGN_OR_RETURN(int64_t p, int_field(o, what, "partition", 0, kMaxI32));
    KREEK_ASSIGN_OR_RETURN(int64_t off, int_field(o, what, "offset", -1, kMaxI64));
    GroupOffset g;
    g.offset = off;
    if (o.contains("metadata") && o["metadata"].is_string()) g.metadata = o["metadata"].get<std::string>();
    out[TopicPartition{o["topic"].get<std::string>(), static_cast<int32_t>(p)}] = g;
  }
  return out;
}

proto::Json assignment_json(const PartitionSet& set) {
  proto::Json out = proto::Json::array();
  for (const auto& tp : set) {
    if (out.empty() || out.back()["topic"] != tp.topic)
      out.push_back({{"topic", tp.topic}, {"partitions", proto::Json::array()}});
    out.back()["partitions"].push_back(tp.partition);
  }
  return out;
}

std::string partitions_text(const PartitionSet& set) {
  if (set.empty()) return "none";
  std::string s;
  const std::string* topic = nullptr;
  for (const auto& tp : set) {
    if (topic == nullptr || *topic != tp.topic) {
      if (topic != nullptr) s += ' ';
      s += tp.topic + '/';
      topic = &tp.topic;
    } else {
      s += ',';
    }
    s += std::to_string(tp.partition);
  }
  return s;
}

GroupMember::GroupMember(Cluster& cluster, GroupMemberOptions options)
    : cluster_(cluster), options_(std::move(options)) {
  heartbeat_ms_ = heartbeat_interval_ms(options_.session_timeout_ms);
  if (!options_.dial)
    options_.dial = [timeout = cluster_.options().connect_timeout_ms](const std::string& addr) {
      return BrokerConnection::connect(addr, timeout);
    };
}

// Backs off before retry `attempt`; false when the retry budget is spent or
// a stop was requested.
bool GroupMember::retry_wait(int attempt, int64_t started_ms) {
  if (options_.retry_for_ms >= 0 && clock::monotonic_ms() - started_ms >= options_.retry_for_ms) return false;
  return cluster_.backoff(attempt);
}

void GroupMember::drop_coordinator() {
  conn_.reset();
  coordinator_addr_.clear();
}

Status GroupMember::find_coordinator() {
  drop_coordinator();
  const int64_t started = clock::monotonic_ms();
  Status last;
  for (int attempt = 0;; ++attempt) {
    auto r = cluster_.call({{"op", "find_coordinator"}, {"group", options_.group}});
    if (r.is_ok()) {
      const proto::Json& j = *r;
      if (!j.contains("addr") || !j["addr"].is_string())
        return malformed("find_coordinator response", "no \"addr\"");
      auto node = int_field(j, "find_coordinator response", "node", -1, kMaxI32, -1);
      if (!node.is_ok()) return node.status();
      std::string addr = j["addr"].get<std::string>();
      auto c = options_.dial(addr);
      if (c.is_ok()) {
        conn_ = std::move(c).value();
        if (options_.on_notice && coordinator_node_ != static_cast<int32_t>(*node))
          options_.on_notice("group " + options_.group + ": coordinator is node " + std::to_string(*node) +
                             " (" + addr + ")");
        coordinator_addr_ = addr;
        coordinator_node_ = static_cast<int32_t>(*node);
        return Status::ok();
      }
      last = c.status();
    } else {
      last = r.status();
      if (!is_coordinator_error(last.code())) return last;
    }
    if (last.message() == "interrupted") return last;
    if (!retry_wait(attempt, started)) {
      if (stop_requested()) return Status(Code::kTimeout, "interrupted");
      return last.with_context("find coordinator of group " + options_.group);
    }
  }
}

Result<proto::Json> GroupMember::read_answer(int64_t id, int timeout_ms) {
  for (;;) {
    KREEK_ASSIGN_OR_RETURN(std::string_view line, conn_->read_line(timeout_ms));
    KREEK_ASSIGN_OR_RETURN(proto::Json j, parse_reply(*conn_, line));
    if (!j.contains("id") || j["id"] != id) continue;  // the answer to an abandoned request
    return j;
  }
}

Result<proto::Json> GroupMember::call(proto::Json request) {
  const int64_t started = clock::monotonic_ms();
  Status last;
  for (int attempt = 0;; ++attempt) {
    if (!conn_) {
      Status f = find_coordinator();
      if (!f.is_ok()) return f;
    }
    const int64_t id = cluster_.next_id();
    request["id"] = id;
    std::string line = request.dump();
    line += '\n';
    Status s = conn_->write_all(line);
    if (s.is_ok()) {
      auto r = read_answer(id, cluster_.options().request_timeout_ms);
      if (r.is_ok()) {
        s = proto::response_status(*r);
        if (s.is_ok()) return r;
      } else {
        s = r.status();
      }
    }
    if (s.message() == "interrupted") return s;
    if (!is_coordinator_error(s.code())) return s;
    last = s;
    drop_coordinator();
    if (!retry_wait(attempt, started)) {
      if (stop_requested()) return Status(Code::kTimeout, "interrupted");
      return last.with_context(request.value("op", std::string("request")) + " for group " + options_.group);
    }
  }
}

Status GroupMember::send_join(const PartitionSet& owned) {
  join_owned_ = owned;
  if (join_id_ == 0) join_sent_ms_ = clock::monotonic_ms();
  proto::Json req = {{"op", "join_group"},
                     {"id", 0},
                     {"group", options_.group},
                     {"member_id", member_id_},
                     {"client_id", options_.client_id},
                     {"topics", options_.topics},
                     {"assignors", {options_.assignor}},
                     {"session_timeout_ms", options_.session_timeout_ms},
                     {"rebalance_timeout_ms", options_.rebalance_timeout_ms}};
  if (!options_.instance_id.empty()) req["instance_id"] = options_.instance_id;
  if (!owned.empty()) req["owned"] = assignment_json(owned);
  for (int attempt = 0;; ++attempt) {
    if (!conn_) KREEK_RETURN_IF_ERROR(find_coordinator());
    join_id_ = cluster_.next_id();
    req["id"] = join_id_;
    join_line_ = req.dump();
    join_line_ += '\n';
    Status s = conn_->write_all(join_line_);
    if (s.is_ok()) return s;
    drop_coordinator();
    if (!retry_wait(attempt, join_sent_ms_)) {
      join_id_ = 0;
      return s.with_context("join group " + options_.group);
    }
  }
}

Result<proto::Json> GroupMember::handle_join_answer(const proto::Json& j) {
  constexpr std::string_view what = "join_group response";
  KREEK_ASSIGN_OR_RETURN(int64_t gen, int_field(j, what, "generation", -1, kMaxI32));
  if (!j.contains("member_id") || !j["member_id"].is_string()) return malformed(what, "no \"member_id\"");
  generation_ = static_cast<int32_t>(gen);
  member_id_ = j["member_id"].get<std::string>();
  auto a = j.find("assignor");
  assignor_ = a != j.end() && a->is_string() ? a->get<std::string>() : options_.assignor;
  return j;
}

Result<bool> GroupMember::poll_join() {
  if (join_id_ == 0) return invalid_request("no join is pending");
  Status failed;
  if (conn_) {
    // Take whatever has arrived, without waiting.
    pollfd p{conn_->fd(), POLLIN, 0};
    while (failed.is_ok() && (conn_->has_pending_input() || ::poll(&p, 1, 0) > 0)) {
      failed = conn_->read_available();
      if (failed.message() == "interrupted") return failed;
    }
    std::string_view line;
    while (failed.is_ok() && conn_->next_buffered_line(line)) {
      auto j = parse_reply(*conn_, line);
      if (!j.is_ok()) {
        failed = j.status();
        break;
      }
      if (!j->contains("id") || (*j)["id"] != join_id_) continue;
      Status s = proto::response_status(*j);
      if (s.is_ok()) {
        join_id_ = 0;
        KREEK_RETURN_IF_ERROR(handle_join_answer(*j).status());
        last_heartbeat_ms_ = clock::monotonic_ms();
        return true;
      }
      failed = s;
    }
  } else {
    failed = Status(Code::kNotCoordinator, "no coordinator connection");
  }
  if (failed.is_ok()) return false;
  if (!is_coordinator_error(failed.code())) {
    join_id_ = 0;
    return failed;
  }
  // The coordinator moved, is loading, or the connection broke: find it
  // again and send the join there.
  drop_coordinator();
  int attempt = 0;
  for (;;) {
    if (options_.retry_for_ms >= 0 && clock::monotonic_ms() - join_sent_ms_ >= options_.retry_for_ms) {
      join_id_ = 0;
      return failed.with_context("join group " + options_.group);
    }
    if (!cluster_.backoff(attempt++)) {
      join_id_ = 0;
      return Status(Code::kTimeout, "interrupted");
    }
    Status s = send_join(join_owned_);
    if (s.is_ok()) return false;
    failed = s;
    if (!is_coordinator_error(s.code())) {
      join_id_ = 0;
      return s;
    }
  }
}

Status GroupMember::join(const PartitionSet& owned) {
  KREEK_RETURN_IF_ERROR(send_join(owned));
  for (;;) {
    KREEK_ASSIGN_OR_RETURN(bool done, poll_join());
    if (done) return Status::ok();
    if (stop_requested()) {
      // The parked join's answer would come first on this connection, and
      // the broker holds a later leave or commit behind it until the join
      // phase ends: the next op dials afresh.
      abandon_join();
      return Status(Code::kTimeout, "interrupted");
    }
    if (conn_) {
      pollfd p{conn_->fd(), POLLIN, 0};
      ::poll(&p, 1, 200);
    }
  }
}

Result<PartitionSet> GroupMember::sync() {
  KREEK_ASSIGN_OR_RETURN(proto::Json j, call({{"op", "sync_group"},
                                              {"group", options_.group},
                                              {"member_id", member_id_},
                                              {"generation", generation_}}));
  last_heartbeat_ms_ = clock::monotonic_ms();
  return parse_assignment(j.value("assignment", proto::Json()), "sync_group response");
}

Status GroupMember::heartbeat() {
  last_heartbeat_ms_ = clock::monotonic_ms();
  return call({{"op", "heartbeat"},
               {"group", options_.group},
               {"member_id", member_id_},
               {"generation", generation_}})
      .status();
}

Status GroupMember::commit(const GroupOffsets& offsets) {
  if (offsets.empty()) return Status::ok();
  proto::Json list = proto::Json::array();
  for (const auto& [tp, o] : offsets)
    list.push_back({{"topic", tp.topic}, {"partition", tp.partition}, {"offset", o.offset}, {"metadata", o.metadata}});
  return call({{"op", "commit_offsets"},
               {"group", options_.group},
               {"member_id", member_id_},
               {"generation", generation_},
               {"offsets", std::move(list)}})
      .status();
}

Result<GroupOffsets> GroupMember::fetch_offsets(const std::vector<std::string>& topics) {
  proto::Json req = {{"op", "fetch_offsets"}, {"group", options_.group}};
  if (!topics.empty()) req["topics"] = topics;
  KREEK_ASSIGN_OR_RETURN(proto::Json j, call(std::move(req)));
  return parse_offsets(j.value("offsets", proto::Json()), "fetch_offsets response");
}

Status GroupMember::leave() {
  if (member_id_.empty()) return Status::ok();
  if (join_id_ != 0) abandon_join();  // its answer would come first on this connection
  Status s = call({{"op", "leave_group"}, {"group", options_.group}, {"member_id", member_id_}}).status();
  reset_member();
  return s;
}

}  // namespace kreek::client
