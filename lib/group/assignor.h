// Assignors: which member of a group reads which partition. Pure functions of
// the members' subscriptions (and, for the sticky ones, what each owns now)
// and the topics' partition counts. Deterministic: members are ordered by
// their sort key (instance id if static, else member id), so the same input
// always gives the same answer.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace kreek::group {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};
using PartitionSet = std::set<TopicPartition>;  // ordered by (topic, partition)

// A topic's partition count; a topic missing from the map does not exist
// (its subscribers get nothing of it until it does).
using PartitionCounts = std::map<std::string, int32_t, std::less<>>;

struct MemberSubscription {
  std::string member_id;
  std::string instance_id;          // "" unless static membership
  std::vector<std::string> topics;  // what the member reads
  PartitionSet owned;               // what it holds now (sticky assignors keep it where they can)
  // Static members sort by instance id so a restart (new member id) keeps its place.
  const std::string& sort_key() const { return instance_id.empty() ? member_id : instance_id; }
};

// Member id -> its partitions. Every member has an entry, possibly empty.
using Assignments = std::map<std::string, PartitionSet>;

enum class AssignorKind {
  kRange,              // per topic, contiguous ranges (Kafka's RangeAssignor)
  kRoundRobin,         // all partitions dealt in turn (RoundRobinAssignor)
  kSticky,             // balanced, moving as few partitions as possible; eager
  kCooperativeSticky,  // the same target, reached without stopping the members whose partitions stay
};

// "range", "roundrobin", "sticky", "cooperative-sticky"; nullopt for others.
std::optional<AssignorKind> assignor_from_name(std::string_view name);
std::string_view assignor_name(AssignorKind kind);
// Cooperative: members keep their partitions while a rebalance runs; a
// partition moving between members is first revoked, then assigned in the
// next generation (KIP-429). GroupState does the withholding.
bool is_cooperative(AssignorKind kind);

// The target: each partition of every subscribed, existing topic goes to
// exactly one member subscribed to that topic. Members with the same
// subscription get counts that differ by at most one (range: per topic).
Assignments assign(AssignorKind kind, const std::vector<MemberSubscription>& members,
                   const PartitionCounts& counts);

}  // namespace kreek::group
