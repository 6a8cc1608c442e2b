// GroupConsumer: rebalances, positions and commits around a Consumer.
#include "client/group_consumer.h"

#include <poll.h>

#include <algorithm>

#include "base/clock.h"
#include "base/json_value.h"
#include "client/interrupt.h"

namespace kreek::client {
namespace {

PartitionSet minus(const PartitionSet& a, const PartitionSet& b) {
  PartitionSet out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

bool is_fenced(Code c) { return c == Code::kIllegalGeneration || c == Code::kUnknownMember; }

}  // namespace

GroupConsumer::GroupConsumer(Cluster& cluster, Consumer& consumer, GroupConsumerOptions options)
    : cluster_(cluster),
      consumer_(consumer),
      options_(std::move(options)),
      member_(cluster, options_.member),
      fetch_wait_ms_(consumer.options().max_wait_ms) {}

Status GroupConsumer::start() {
  KREEK_RETURN_IF_ERROR(member_.find_coordinator());
  KREEK_RETURN_IF_ERROR(member_.join({}));
  next_commit_ms_ = clock::monotonic_ms() + options_.commit_interval_ms;
  return joined();
}

Status GroupConsumer::joined() {
  ++rebalances_;
  auto a = member_.sync();
  if (!a.is_ok()) return on_group_error(a.status());
  return apply(*a);
}

void GroupConsumer::drop(const PartitionSet& set) {
  if (set.empty()) return;
  std::vector<Cursor> keep;
  for (const Cursor& c : consumer_.cursors())
    if (!set.count(TopicPartition{c.topic, c.partition})) keep.push_back(c);
  consumer_.assign(std::move(keep));
  for (const auto& tp : set) {
    committed_.erase(tp);
    owned_.erase(tp);
  }
}

Status GroupConsumer::apply(const PartitionSet& target) {
  const PartitionSet revoked = minus(owned_, target);
  const PartitionSet added = minus(target, owned_);
  if (!revoked.empty()) {
    // What was read of them is written out and committed before another
    // member may start on them.
    Status c = commit_positions(&revoked);
    if (!c.is_ok()) warn("commit before revoking " + partitions_text(revoked) + ": " + c.to_string());
    drop(revoked);
  }
  if (!added.empty()) {
    KREEK_ASSIGN_OR_RETURN(std::vector<Cursor> fresh, positions_for(added));
    std::vector<Cursor> all = consumer_.cursors();
    all.insert(all.end(), fresh.begin(), fresh.end());
    consumer_.assign(std::move(all));
    owned_.insert(added.begin(), added.end());
  }
  std::string m = "group " + options_.member.group + " generation " + std::to_string(member_.generation()) +
                  " (member " + member_.member_id() + "): assigned " + partitions_text(owned_);
  if (!revoked.empty()) m += " (revoked " + partitions_text(revoked) + ")";
  info(m);
  if (cooperative() && !revoked.empty()) return member_.send_join(owned_);  // KIP-429's second round
  return Status::ok();
}

Status GroupConsumer::on_group_error(Status s) {
  if (s.code() != Code::kRebalanceInProgress && !is_fenced(s.code())) return s;
  if (++depth_ > 20) {
    depth_ = 0;
    return s.with_context("group " + options_.member.group + " keeps rebalancing");
  }
  struct Depth {
    int& d;
    ~Depth() { --d; }
  } guard{depth_};
  if (is_fenced(s.code())) {
    // Another member may own our partitions by now: what was read is written
    // out but not committed (the group would refuse it), and all is dropped.
    if (options_.flush) (void)options_.flush();
    info("group " + options_.member.group + ": " + s.message() + "; rejoining");
    drop(PartitionSet(owned_));
    if (s.code() == Code::kUnknownMember) member_.reset_member();
    KREEK_RETURN_IF_ERROR(member_.join({}));
    return joined();
  }
  info("group " + options_.member.group + " is rebalancing");
  if (cooperative()) return member_.send_join(owned_);  // keep reading meanwhile
  // Eager: everything is given up before the join.
  Status c = commit_positions(nullptr);
  if (!c.is_ok() && !is_fenced(c.code())) warn("commit before rebalancing: " + c.to_string());
  drop(PartitionSet(owned_));
  KREEK_RETURN_IF_ERROR(member_.join({}));
  return joined();
}

Status GroupConsumer::duties() {
  if (member_.join_pending()) {
    // No heartbeats or commits while parked: their answers would queue
    // behind the join's on the coordinator connection.
    auto r = member_.poll_join();
    if (!r.is_ok()) {
      if (r.status().code() == Code::kUnknownMember) return on_group_error(r.status());
      return r.status();
    }
    if (*r) return joined();
    return Status::ok();
  }
  const int64_t now = clock::monotonic_ms();
  if (member_.heartbeat_due(now)) {
    Status h = member_.heartbeat();
    if (!h.is_ok()) return on_group_error(h);
  }
  if (options_.commit && now >= next_commit_ms_) {
    next_commit_ms_ = now + options_.commit_interval_ms;
    Status c = commit_positions(nullptr);
    if (!c.is_ok()) return on_group_error(c);
  }
  return Status::ok();
}

Status GroupConsumer::poll(RecordSink& sink, bool& stopped) {
  stopped = false;
  KREEK_RETURN_IF_ERROR(duties());
  // While a join is parked its answer is looked for between fetches, so the
  // fetches' long polls are kept short until it comes.
  consumer_.set_max_wait_ms(member_.join_pending() ? std::min(fetch_wait_ms_, 50) : fetch_wait_ms_);
  if (!consumer_.all_done()) return consumer_.poll(sink, stopped);
  // Nothing to fetch (no partitions, or a bounded read at its end): wait a
  // little for the coordinator instead of spinning.
  int wait = static_cast<int>(std::min<int64_t>(200, heartbeat_interval_ms(options_.member.session_timeout_ms)));
  if (member_.join_pending()) wait = 50;
  ::poll(nullptr, 0, wait);
  return Status::ok();
}

Result<bool> GroupConsumer::settled() {
  KREEK_ASSIGN_OR_RETURN(proto::Json d, member_.call({{"op", "describe_group"}, {"group", options_.member.group}}));
  if (json_string_or(d, "state") != "Stable") return false;
  if (!d.contains("generation") || d["generation"] != member_.generation()) return false;
  PartitionSet owned_by_all;
  for (const auto& m : d.value("members", proto::Json::array())) {
    proto::Json assignment = m.is_object() ? m.value("assignment", proto::Json()) : proto::Json();
    KREEK_ASSIGN_OR_RETURN(PartitionSet a, parse_assignment(assignment, "describe_group response"));
    owned_by_all.insert(a.begin(), a.end());
  }
  for (const auto& t : options_.member.topics) {
    auto meta = cluster_.topic(t, /*auto_create=*/false);
    if (!meta.is_ok()) continue;  // a topic that does not exist has nothing to assign
    for (int32_t p = 0; p < (*meta)->partition_count(); ++p)
      if (!owned_by_all.count(TopicPartition{t, p})) return false;
  }
  return true;
}

bool GroupConsumer::all_done() {
  if (options_.follow || member_.join_pending() || !consumer_.all_done()) return false;
  if (!cooperative() || settled_generation_ == member_.generation()) return true;
  // A cooperative rebalance withholds moving partitions for one generation;
  // a member done with what it has waits until every partition has an owner.
  const int64_t now = clock::monotonic_ms();
  if (now < next_settle_check_ms_) return false;
  next_settle_check_ms_ = now + heartbeat_interval_ms(options_.member.session_timeout_ms);
  auto s = settled();
  if (s.is_ok() && *s) {
    settled_generation_ = member_.generation();
    return true;
  }
  return false;
}

Status GroupConsumer::commit_positions(const PartitionSet* only) {
  if (options_.flush) KREEK_RETURN_IF_ERROR(options_.flush());
  if (!options_.commit || member_.generation() < 0) return Status::ok();
  GroupOffsets out;
  for (const Cursor& c : consumer_.cursors()) {
    TopicPartition tp{c.topic, c.partition};
    if (!owned_.count(tp) || (only && !only->count(tp))) continue;
    auto it = committed_.find(tp);
    if (it != committed_.end() && it->second == c.next) continue;
    out[tp] = GroupOffset{c.next, ""};
  }
  if (out.empty()) return Status::ok();
  KREEK_RETURN_IF_ERROR(member_.commit(out));
  for (const auto& [tp, o] : out) committed_[tp] = o.offset;
  return Status::ok();
}

Status GroupConsumer::close(bool leave, bool commit) {
  Status first;
  if (member_.join_pending()) {
    // A commit would queue behind the parked join; the member is still one
    // of the current generation, so the commit is taken on a new connection.
    member_.abandon_join();
  }
  if (commit) {
    first = commit_positions(nullptr);
    if (!first.is_ok()) first = first.with_context("commit offsets of group " + options_.member.group);
  } else if (options_.flush) {
    (void)options_.flush();
  }
  if (leave) {
    Status l = member_.leave();
    if (!l.is_ok() && first.is_ok()) first = l.with_context("leave group " + options_.member.group);
  }
  return first;
}

Result<std::vector<PartitionOffsets>> GroupConsumer::offsets_of(const std::string& topic,
                                                                const std::vector<int32_t>& parts,
                                                                const std::string& at) {
  // A leader that moved is looked up again a few times.
  for (int attempt = 0;; ++attempt) {
    auto r = consumer_.list_offsets(topic, parts, at);
    if (r.is_ok() || !is_retriable(r.status().code()) || attempt >= cluster_.options().max_retries) return r;
    if (!cluster_.backoff(attempt)) return Status(Code::kTimeout, "interrupted");
    (void)cluster_.topic(topic, /*auto_create=*/false, /*refresh=*/true);
  }
}

Result<std::vector<Cursor>> GroupConsumer::positions_for(const PartitionSet& added) {
  std::map<std::string, std::vector<int32_t>> by_topic;
  for (const auto& tp : added) by_topic[tp.topic].push_back(tp.partition);
  std::vector<std::string> topics;
  for (const auto& [t, _] : by_topic) topics.push_back(t);
  KREEK_ASSIGN_OR_RETURN(GroupOffsets committed, member_.fetch_offsets(topics));
  std::vector<Cursor> out;
  using Kind = StartSpec::Kind;
  for (const auto& [topic, parts] : by_topic) {
    KREEK_ASSIGN_OR_RETURN(auto ends, offsets_of(topic, parts, "latest"));
    std::map<int32_t, int64_t> at_time;
    if (options_.start.kind == Kind::kTime) {
      KREEK_ASSIGN_OR_RETURN(auto t, offsets_of(topic, parts, std::to_string(options_.start.value)));
      for (const auto& o : t) at_time[o.partition] = o.offset;
    }
    for (const PartitionOffsets& e : ends) {
      const int64_t hw = e.offset;  // "latest" answers the high watermark
      TopicPartition tp{topic, e.partition};
      Cursor c;
      c.topic = topic;
      c.partition = e.partition;
      auto it = committed.find(tp);
      if (it != committed.end() && it->second.offset >= 0) {
        c.next = it->second.offset;
        committed_[tp] = c.next;
        if (c.next < e.log_start || c.next > hw) {
          int64_t to = reset_position(options_.reset == ResetPolicy::kNone ? ResetPolicy::kEarliest : options_.reset,
                                      c.next, e.log_start, hw);
          warn("group " + options_.member.group + ": committed " +
               out_of_range_message(topic, e.partition, c.next, e.log_start, hw) + ", reset to " +
               std::to_string(to));
          c.next = to;
        }
      } else {
        switch (options_.start.kind) {
          case Kind::kBeginning: c.next = e.log_start; break;
          case Kind::kEnd: c.next = hw; break;
          case Kind::kOffset: c.next = std::clamp(options_.start.value, e.log_start, hw); break;
          case Kind::kTime: c.next = at_time.count(e.partition) ? at_time[e.partition] : hw; break;
          case Kind::kLast: c.next = std::max(e.log_start, hw - options_.start.value); break;
        }
      }
      c.stop = options_.follow ? -1 : hw;
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace kreek::client
