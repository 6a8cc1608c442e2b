// Assignors: range and round-robin as Kafka defines them, and one balanced,
// sticky target that both the eager and the cooperative sticky assignors use
// (the cooperative handover itself is GroupState's withholding).
#include "group/assignor.h"

#include <algorithm>
#include <cassert>
#include <tuple>
#include <utility>

namespace kreek::group {
namespace {

// Members in their deterministic order (sort key, then member id so two
// members claiming one instance id still sort the same way every time).
std::vector<const MemberSubscription*> sorted_members(const std::vector<MemberSubscription>& members) {
  std::vector<const MemberSubscription*> out;
  out.reserve(members.size());
  for (const MemberSubscription& m : members) out.push_back(&m);
  std::sort(out.begin(), out.end(), [](const MemberSubscription* a, const MemberSubscription* b) {
    return std::tie(a->sort_key(), a->member_id) < std::tie(b->sort_key(), b->member_id);
  });
  return out;
}

bool subscribes(const MemberSubscription& m, std::string_view topic) {
  return std::find(m.topics.begin(), m.topics.end(), topic) != m.topics.end();
}

Assignments empty_assignments(const std::vector<MemberSubscription>& members) {
  Assignments out;
  for (const MemberSubscription& m : members) out[m.member_id];
  return out;
}

// The subscribed topics that exist, in name order.
std::vector<std::pair<std::string, int32_t>> subscribed_topics(const std::vector<MemberSubscription>& members,
                                                               const PartitionCounts& counts) {
  std::set<std::string> names;
  for (const MemberSubscription& m : members) names.insert(m.topics.begin(), m.topics.end());
  std::vector<std::pair<std::string, int32_t>> out;
  for (const std::string& t : names)
    if (auto it = counts.find(t); it != counts.end() && it->second > 0) out.emplace_back(t, it->second);
  return out;
}

// Kafka's RangeAssignor: per topic, the subscribers in order get contiguous
// ranges; the first (count % subscribers) get one more.
Assignments assign_range(const std::vector<MemberSubscription>& members, const PartitionCounts& counts) {
  Assignments out = empty_assignments(members);
  auto order = sorted_members(members);
  for (const auto& [topic, count] : subscribed_topics(members, counts)) {
    std::vector<const MemberSubscription*> subs;
    for (const MemberSubscription* m : order)
      if (subscribes(*m, topic)) subs.push_back(m);
    const int32_t n = static_cast<int32_t>(subs.size());
    const int32_t each = count / n, extra = count % n;
    int32_t next = 0;
    for (int32_t i = 0; i < n; ++i) {
      const int32_t take = each + (i < extra ? 1 : 0);
      for (int32_t k = 0; k < take; ++k) out[subs[i]->member_id].insert({topic, next++});
    }
  }
  return out;
}

// Kafka's RoundRobinAssignor: every partition in (topic, partition) order is
// dealt to the next member in a circle that subscribes to its topic.
Assignments assign_roundrobin(const std::vector<MemberSubscription>& members, const PartitionCounts& counts) {
  Assignments out = empty_assignments(members);
  auto order = sorted_members(members);
  if (order.empty()) return out;
  size_t at = 0;
  for (const auto& [topic, count] : subscribed_topics(members, counts)) {
    for (int32_t p = 0; p < count; ++p) {
      while (!subscribes(*order[at], topic)) at = (at + 1) % order.size();
      out[order[at]->member_id].insert({topic, p});
      at = (at + 1) % order.size();
    }
  }
  return out;
}

// The sticky target: keep every valid owned partition, give the rest to the
// least loaded subscriber, then move partitions from a member to one with at
// least two fewer that can take them until no such move is left. That end
// condition is what makes members with equal subscriptions differ by at most
// one; the moves prefer partitions the giver did not own before, so owned
// ones only move when balance needs it.
Assignments assign_sticky(const std::vector<MemberSubscription>& members, const PartitionCounts& counts) {
  Assignments out = empty_assignments(members);
  auto order = sorted_members(members);
  if (order.empty()) return out;
  const size_t n = order.size();
  std::vector<PartitionSet> have(n);
  PartitionSet taken;
  auto exists = [&](const TopicPartition& tp) {
    auto it = counts.find(tp.topic);
    return it != counts.end() && tp.partition >= 0 && tp.partition < it->second;
  };
  // 1. Owned partitions stay, if still subscribed and existing. Two claims on
  // one partition (a stale report): the first member in order keeps it.
  for (size_t i = 0; i < n; ++i)
    for (const TopicPartition& tp : order[i]->owned)
      if (subscribes(*order[i], tp.topic) && exists(tp) && taken.insert(tp).second) have[i].insert(tp);

  // 2. The rest, hardest to place first (fewest possible members), each to
  // the least loaded member that can take it.
  std::vector<std::pair<size_t, TopicPartition>> rest;  // (number of subscribers, partition)
  for (const auto& [topic, count] : subscribed_topics(members, counts)) {
    size_t subs = 0;
    for (const MemberSubscription* m : order) subs += subscribes(*m, topic) ? 1 : 0;
    for (int32_t p = 0; p < count; ++p)
      if (!taken.count({topic, p})) rest.push_back({subs, {topic, p}});
  }
  std::sort(rest.begin(), rest.end());
  // Per topic, its subscribers by (load, order): the least loaded is first,
  // ties to the earliest member, without scanning every member per partition.
  std::map<std::string, std::set<std::pair<size_t, size_t>>, std::less<>> by_load;
  for (size_t i = 0; i < n; ++i)
    for (const std::string& t : order[i]->topics) by_load[t].insert({have[i].size(), i});
  for (const auto& [subs, tp] : rest) {
    auto& candidates = by_load[tp.topic];
    assert(!candidates.empty());  // Invariant: rest holds only subscribed topics.
    const size_t best = candidates.begin()->second;
    for (const std::string& t : order[best]->topics) {
      auto& set = by_load[t];
      set.erase({have[best].size(), best});
      set.insert({have[best].size() + 1, best});
    }
    have[best].insert(tp);
  }

  // 3. Balance. Each move lowers the sum of squared counts, so this ends.
  auto movable = [&](size_t from, size_t to) -> std::optional<TopicPartition> {
    std::optional<TopicPartition> fallback;
    // Prefer a partition `from` did not own (it moves at no cost), the last one for determinism.
    for (auto it = have[from].rbegin(); it != have[from].rend(); ++it) {
      if (!subscribes(*order[to], it->topic)) continue;
      if (!order[from]->owned.count(*it)) return *it;
      if (!fallback) fallback = *it;
    }
    return fallback;
  };
  for (bool moved = true; moved;) {
    moved = false;
    std::vector<size_t> by_load(n);
    for (size_t i = 0; i < n; ++i) by_load[i] = i;
    std::stable_sort(by_load.begin(), by_load.end(),
                     [&](size_t a, size_t b) { return have[a].size() > have[b].size(); });
    for (size_t x = 0; x < n && !moved; ++x) {
      const size_t from = by_load[x];
      for (size_t y = n; y-- > x + 1 && !moved;) {
        const size_t to = by_load[y];
        if (have[to].size() + 2 > have[from].size()) break;  // the rest are as loaded
        if (auto tp = movable(from, to)) {
          have[from].erase(*tp);
          have[to].insert(*tp);
          moved = true;
        }
      }
    }
  }
  for (size_t i = 0; i < n; ++i) out[order[i]->member_id] = std::move(have[i]);
  return out;
}

}  // namespace

std::optional<AssignorKind> assignor_from_name(std::string_view name) {
  if (name == "range") return AssignorKind::kRange;
  if (name == "roundrobin") return AssignorKind::kRoundRobin;
  if (name == "sticky") return AssignorKind::kSticky;
  if (name == "cooperative-sticky") return AssignorKind::kCooperativeSticky;
  return std::nullopt;
}

std::string_view assignor_name(AssignorKind kind) {
  switch (kind) {
    case AssignorKind::kRange: return "range";
    case AssignorKind::kRoundRobin: return "roundrobin";
    case AssignorKind::kSticky: return "sticky";
    case AssignorKind::kCooperativeSticky: return "cooperative-sticky";
  }
  return "range";
}

bool is_cooperative(AssignorKind kind) { return kind == AssignorKind::kCooperativeSticky; }

Assignments assign(AssignorKind kind, const std::vector<MemberSubscription>& members, const PartitionCounts& counts) {
  switch (kind) {
    case AssignorKind::kRange: return assign_range(members, counts);
    case AssignorKind::kRoundRobin: return assign_roundrobin(members, counts);
    case AssignorKind::kSticky:
    case AssignorKind::kCooperativeSticky: return assign_sticky(members, counts);
  }
  return {};
}

}  // namespace kreek::group
