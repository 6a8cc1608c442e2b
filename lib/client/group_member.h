// GroupMember: one consumer's membership of a group, as kreek-protocol(7)'s
// group ops see it: find the coordinator (retrying while it moves or loads),
// join (blocking, or sent and polled for so a cooperative member keeps
// fetching while the join is parked), sync, heartbeat, commit, fetch offsets
// and leave. It keeps a connection of its own to the coordinator: a parked
// join must never share a socket with fetches. Single-threaded, blocking I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/broker_connection.h"
#include "client/cluster.h"
#include "group/assignor.h"
#include "proto/message.h"

namespace kreek::client {

using group::PartitionSet;
using group::TopicPartition;

struct GroupMemberOptions {
  std::string group;
  std::string client_id = "kconsume";
  std::string instance_id;  // static membership; "" for none
  std::vector<std::string> topics;
  std::string assignor = "cooperative-sticky";
  int64_t session_timeout_ms = 10'000;
  int64_t rebalance_timeout_ms = 30'000;
  // How long coordinator errors (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE,
  // COORDINATOR_LOAD_IN_PROGRESS, a lost connection) are retried, with
  // backoff and a fresh find_coordinator, before the op fails; < 0: forever.
  int64_t retry_for_ms = 60'000;
  // Told when the coordinator moves ("group g: coordinator is now node 2 (127.0.0.1:9093)").
  std::function<void(const std::string&)> on_notice;
  // Dials the coordinator; tests substitute a fake broker's end.
  std::function<Result<std::unique_ptr<BrokerConnection>>(const std::string& addr)> dial;
};

// Heartbeats go every session/3, at most every second (groups.md).
int64_t heartbeat_interval_ms(int64_t session_timeout_ms);
// Whether the group's assignor (from the join answer) is cooperative (KIP-429).
bool is_cooperative_assignor(std::string_view name);
// Coordinator errors: ask find_coordinator again and retry.
bool is_coordinator_error(Code code);

// A committed offset as fetch_offsets returns it.
struct GroupOffset {
  int64_t offset = 0;
  std::string metadata;
};
using GroupOffsets = std::map<TopicPartition, GroupOffset>;

// Parses [{"topic":"logs","partitions":[0,3]}] (sync and describe answers).
Result<PartitionSet> parse_assignment(const proto::Json& j, std::string_view what);
// Parses [{"topic":..,"partition":..,"offset":..,"metadata":..}] (fetch_offsets, describe_group).
Result<GroupOffsets> parse_offsets(const proto::Json& j, std::string_view what);
// The other way, for join's "owned".
proto::Json assignment_json(const PartitionSet& set);
// "logs/0,3 audit/1" for notices; "none" when empty.
std::string partitions_text(const PartitionSet& set);

class GroupMember {
 public:
  // `cluster` must outlive the member; find_coordinator goes through its
  // bootstrap connection (any broker answers it).
  GroupMember(Cluster& cluster, GroupMemberOptions options);

  const GroupMemberOptions& options() const { return options_; }
  const std::string& member_id() const { return member_id_; }
  int32_t generation() const { return generation_; }
  const std::string& assignor() const { return assignor_; }
  const std::string& coordinator() const { return coordinator_addr_; }
  bool join_pending() const { return join_id_ != 0; }

  // Asks any broker which one coordinates the group and connects to it,
  // retrying coordinator errors until options.retry_for_ms runs out.
  Status find_coordinator();

  // Sends a join naming what the member holds now (cooperative assignors).
  Status send_join(const PartitionSet& owned);
  // Looks for the join's answer without blocking: true once it came (the
  // member id, generation and assignor are then set), false while parked. A
  // coordinator that moved or a lost connection is handled here (a new
  // find_coordinator and the join sent again). Errors: UNKNOWN_MEMBER_ID
  // (forget the member id and join again), FENCED_INSTANCE_ID,
  // INCONSISTENT_GROUP_PROTOCOL, INVALID_REQUEST, or a coordinator error
  // that outlasted retry_for_ms.
  Result<bool> poll_join();
  // send_join, then waits for the answer (wakes every 200 ms to notice a stop
  // request: then kTimeout "interrupted").
  Status join(const PartitionSet& owned);
  // The member's assignment for its generation. Errors: REBALANCE_IN_PROGRESS
  // (join again), ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID.
  Result<PartitionSet> sync();
  // OK, or REBALANCE_IN_PROGRESS / ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID /
  // FENCED_INSTANCE_ID: the group's answer. Marks the heartbeat as sent.
  Status heartbeat();
  bool heartbeat_due(int64_t now_ms) const { return now_ms >= last_heartbeat_ms_ + heartbeat_ms_; }
  // Commits offsets for the member's generation (member "" and generation
  // -1 when it has none: admin commits of an empty group). OK only once the
  // coordinator has them replicated.
  Status commit(const GroupOffsets& offsets);
  // The group's committed offsets for `topics` (empty: all).
  Result<GroupOffsets> fetch_offsets(const std::vector<std::string>& topics);
  // Gives up waiting for a parked join (its answer would come first on the
  // connection): the connection is dropped and the next op dials afresh.
  void abandon_join() {
    join_id_ = 0;
    drop_coordinator();
  }
  // Leaves the group (a parked join is abandoned first, on a fresh connection).
  Status leave();
  // Forget the member id (after UNKNOWN_MEMBER_ID): the next join is a new member's.
  void reset_member() {
    member_id_.clear();
    generation_ = -1;
  }
  // One request to the coordinator, retried through coordinator errors.
  Result<proto::Json> call(proto::Json request);

 private:
  Status connect_coordinator();
  void drop_coordinator();
  // Waits for the answer with `id` on the coordinator connection (lines with
  // other ids, answers to abandoned requests, are skipped).
  Result<proto::Json> read_answer(int64_t id, int timeout_ms);
  Result<proto::Json> handle_join_answer(const proto::Json& j);
  bool retry_wait(int attempt, int64_t started_ms);

  Cluster& cluster_;
  GroupMemberOptions options_;
  std::unique_ptr<BrokerConnection> conn_;
  std::string coordinator_addr_;
  int32_t coordinator_node_ = -1;
  std::string member_id_;
  int32_t generation_ = -1;
  std::string assignor_;
  int64_t heartbeat_ms_ = 1000;
  int64_t last_heartbeat_ms_ = 0;
  int64_t join_id_ = 0;        // id of the parked join, 0 if none
  int64_t join_sent_ms_ = 0;   // for the join's retry budget
  std::string join_line_;      // the join as sent (resent after a coordinator move)
  PartitionSet join_owned_;
};

}  // namespace kreek::client
