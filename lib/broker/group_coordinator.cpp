// The groups this broker coordinates; see group_coordinator.h.
#include "broker/group_coordinator.h"

#include <algorithm>

#include "base/clock.h"
#include "base/crc32c.h"
#include "base/log.h"
#include "broker/broker_context.h"
#include "broker/coordinator_link.h"
#include "broker/flush_scheduler.h"
#include "broker/offsets_loader.h"
#include "broker/replica_manager.h"
#include "proto/record.h"
#include "storage/partition_log.h"

namespace kreek::broker {

using json = nlohmann::ordered_json;

namespace {

const std::string kTopic(group::kOffsetsTopic);

// How long a commit or a group record waits for the in-sync replicas
// (Kafka's offsets.commit.timeout.ms).
constexpr int64_t kWriteTimeoutMs = 5000;
// A load that failed (an unreadable log) is tried again after this long.
constexpr int64_t kLoadRetryMs = 1000;
// Records per appended batch (tombstones of a large group's offsets split).
constexpr size_t kRecordsPerBatch = 1000;

std::string where(int32_t p) { return kTopic + "/" + std::to_string(p); }

Status not_coordinator(const std::string& why) { return Status(Code::kNotCoordinator, why); }

// A write's failure as a group op reports it: a partition this broker no
// longer leads (or that went away) means the group moved.
Status as_group_error(const Status& s) {
  switch (s.code()) {
    case Code::kNotLeader:
    case Code::kLeaderNotAvailable:
    case Code::kUnknownTopic:
    case Code::kUnknownPartition:
    case Code::kFencedEpoch:
      return not_coordinator(s.message());
    default:
      return s;
  }
}

}  // namespace

GroupCoordinator::GroupCoordinator(BrokerContext& ctx) : ctx_(ctx), now_ms_([] { return clock::monotonic_ms(); }) {}

GroupCoordinator::~GroupCoordinator() { *alive_ = false; }

group::GroupLimits GroupCoordinator::limits() const {
  group::GroupLimits l;
  l.min_session_timeout_ms = ctx_.config.group_min_session_timeout_ms;
  l.max_session_timeout_ms = ctx_.config.group_max_session_timeout_ms;
  l.initial_rebalance_delay_ms = ctx_.config.group_initial_rebalance_delay_ms;
  return l;
}

void GroupCoordinator::stop() {
  stopped_ = true;
  if (timer_) timer_->stop();
  std::vector<int32_t> led;
  for (const auto& [p, part] : parts_) led.push_back(p);
  for (int32_t p : led) drop(p, "the broker coordinating it is stopping");
}

group::PartitionCounts GroupCoordinator::partition_counts() const {
  group::PartitionCounts counts;
  for (const storage::TopicInfo* t : ctx_.logs.topics()) counts[t->name] = t->partitions;
  return counts;
}

int32_t GroupCoordinator::partition_of(const std::string& group) const {
  const storage::TopicInfo* t = ctx_.logs.topic(kTopic);
  if (t == nullptr || t->partitions <= 0) return -1;
  return group::group_partition(group, t->partitions);
}

// --- leadership -------------------------------------------------------------

void GroupCoordinator::on_metadata() {
  if (stopped_) return;
  const storage::TopicInfo* t = ctx_.logs.topic(kTopic);
  std::vector<int32_t> gone;
  for (const auto& [p, part] : parts_) {
    bool still = t != nullptr && p < t->partitions && ctx_.logs.log(kTopic, PartitionId(p)) != nullptr &&
                 ctx_.partitions.is_leader(kTopic, PartitionId(p)) &&
                 ctx_.partitions.get(kTopic, PartitionId(p)).epoch == part.epoch;
    if (!still) gone.push_back(p);
  }
  for (int32_t p : gone) {
    const PartitionState& ps = ctx_.partitions.get(kTopic, PartitionId(p));
    drop(p, ps.leader == ctx_.partitions.self()
                ? where(p) + " has a new leader epoch " + std::to_string(ps.epoch.value())
                : where(p) + " is now led by node " + std::to_string(ps.leader.value()));
  }
  if (t != nullptr) {
    for (int32_t p = 0; p < t->partitions; ++p) {
      if (parts_.count(p) != 0 || ctx_.logs.log(kTopic, PartitionId(p)) == nullptr ||
          !ctx_.partitions.is_leader(kTopic, PartitionId(p)))
        continue;
      Part& part = parts_[p];
      part.epoch = ctx_.partitions.get(kTopic, PartitionId(p)).epoch;
      part.incarnation = next_incarnation_++;
      load(p);
    }
  }
  // Topics created, deleted or grown: subscribed groups rebalance.
  group::PartitionCounts counts = partition_counts();
  if (counts != counts_) {
    counts_ = counts;
    int64_t t_now = now();
    std::vector<std::string> names;
    for (const auto& [p, part] : parts_)
      for (const auto& [name, g] : part.groups) names.push_back(name);
    for (const std::string& name : names) {
      group::GroupState* g = lookup(name);
      if (g == nullptr) continue;
      group::GroupEffects fx;
      g->on_partition_counts(counts_, t_now, fx);
      apply_effects(name, std::move(fx));
    }
  }
  reschedule();
}

void GroupCoordinator::load(int32_t p) {
  Part& part = parts_[p];
  storage::PartitionLog* log = ctx_.logs.log(kTopic, PartitionId(p));
  if (log == nullptr) return;
  int64_t started = clock::monotonic_ms();
  auto loaded = load_offsets_partition(*log);
  if (!loaded.is_ok()) {
    log::error("load the groups of " + where(p) + ": " + loaded.status().message() + "; trying again in " +
               std::to_string(kLoadRetryMs) + " ms");
    part.retry_ms = now() + kLoadRetryMs;
    return;
  }
  int64_t t_now = now();
  part.groups.clear();
  for (auto& [name, lg] : loaded->groups) {
    auto g = std::make_unique<group::GroupState>(name, limits());
    if (lg.record) g->restore(*lg.record, t_now);
    for (const auto& [tp, off] : lg.offsets) g->apply_offset(tp, off);
    if (g->members().empty() && g->offsets().empty()) continue;  // as forget_if_unused
    part.groups.emplace(name, std::move(g));
  }
  part.loaded = true;
  part.retry_ms = 0;
  size_t groups = part.groups.size();
  LeaderEpoch epoch = part.epoch;
  // A topic deleted or grown while another broker coordinated: the restored
  // assignments no longer cover what exists, and those groups rebalance.
  group::PartitionCounts counts = partition_counts();
  std::vector<std::string> names;
  for (const auto& [name, g] : part.groups) names.push_back(name);
  for (const std::string& name : names) {
    group::GroupState* g = lookup(name);
    if (g == nullptr) continue;
    group::GroupEffects fx;
    g->on_partition_counts(counts, t_now, fx);
    apply_effects(name, std::move(fx));
  }
  log::info("coordinating the groups of " + where(p) + " at epoch " + std::to_string(epoch.value()) + ": " +
            std::to_string(groups) + " group(s) from " + std::to_string(loaded->records) +
            " record(s) in " + std::to_string(clock::monotonic_ms() - started) + " ms");
}

void GroupCoordinator::drop(int32_t p, const std::string& why) {
  auto it = parts_.find(p);
  if (it == parts_.end()) return;
  size_t n = it->second.groups.size();
  parts_.erase(it);
  answer_parked("", p, not_coordinator(why));
  if (n > 0 || !stopped_) log::info("no longer coordinating the groups of " + where(p) + ": " + why);
}

void GroupCoordinator::answer_parked(const std::string& group, int32_t p, const Status& why) {
  std::vector<uint64_t> tickets;
  for (const auto& [ticket, parked] : parked_)
    if (parked.part == p && (group.empty() || parked.group == group)) tickets.push_back(ticket);
  for (uint64_t ticket : tickets) {
    auto it = parked_.find(ticket);
    if (it == parked_.end()) continue;
    JoinDone done = std::move(it->second.done);
    parked_.erase(it);
    group::JoinAnswer a;
    a.ticket = ticket;
    a.status = why;
    done(a);
  }
}

void GroupCoordinator::reload_group(int32_t p, uint64_t incarnation, const std::string& name) {
  auto it = parts_.find(p);
  if (it == parts_.end() || it->second.incarnation != incarnation) return;
  answer_parked(name, p, not_coordinator("group \"" + name + "\": its record could not be written; find the coordinator again"));
  it = parts_.find(p);
  if (it == parts_.end() || it->second.incarnation != incarnation) return;
  Part& part = it->second;
  part.groups.erase(name);
  storage::PartitionLog* log = ctx_.logs.log(kTopic, PartitionId(p));
  if (log == nullptr) return;
  auto loaded = load_offsets_partition(*log, name);
  if (!loaded.is_ok()) {
    // Serve nothing of this partition rather than a state the log does not have.
    log::error("reload group \"" + name + "\" from " + where(p) + ": " + loaded.status().message());
    part.loaded = false;
    part.retry_ms = now() + kLoadRetryMs;
    reschedule();
    return;
  }
  auto lg = loaded->groups.find(name);
  if (lg == loaded->groups.end()) return;
  auto g = std::make_unique<group::GroupState>(name, limits());
  if (lg->second.record) g->restore(*lg->second.record, now());
  for (const auto& [tp, off] : lg->second.offsets) g->apply_offset(tp, off);
  if (g->members().empty() && g->offsets().empty()) return;  // as forget_if_unused
  part.groups[name] = std::move(g);
  reschedule();
}

// --- finding a group --------------------------------------------------------

Status GroupCoordinator::check_coordinator(const std::string& group) {
  if (stopped_) return not_coordinator("this broker is stopping; its groups move to other brokers");
  int32_t p = partition_of(group);
  if (p < 0)
    return Status(Code::kCoordinatorNotAvailable,
                  kTopic + " does not exist yet (find_coordinator creates it)");
  auto it = parts_.find(p);
  if (it != parts_.end()) {
    if (it->second.loaded) return Status::ok();
    return Status(Code::kCoordinatorLoading, "the groups of " + where(p) + " are being loaded");
  }
  const PartitionState& ps = ctx_.partitions.get(kTopic, PartitionId(p));
  if (ps.leader.value() < 0)
    return Status(Code::kCoordinatorNotAvailable, where(p) + " (group \"" + group + "\") has no leader now");
  if (ps.leader == ctx_.partitions.self())
    return Status(Code::kCoordinatorLoading, "the groups of " + where(p) + " are being loaded");
  auto b = ctx_.brokers.find(ps.leader.value());
  std::string at = b == ctx_.brokers.end() ? std::string() : " at " + b->second.addr;
  return not_coordinator("group \"" + group + "\" is coordinated by node " + std::to_string(ps.leader.value()) + at);
}

GroupCoordinator::Part* GroupCoordinator::loaded_part(const std::string& group) {
  int32_t p = partition_of(group);
  auto it = parts_.find(p);
  return it == parts_.end() || !it->second.loaded ? nullptr : &it->second;
}

group::GroupState* GroupCoordinator::lookup(const std::string& group) {
  Part* part = loaded_part(group);
  if (part == nullptr) return nullptr;
  auto it = part->groups.find(group);
  return it == part->groups.end() ? nullptr : it->second.get();
}

const group::GroupState* GroupCoordinator::find(const std::string& group) const {
  return const_cast<GroupCoordinator*>(this)->lookup(group);
}

group::GroupState& GroupCoordinator::get_or_create(const std::string& group) {
  Part* part = loaded_part(group);  // Invariant: check_coordinator passed
  auto& slot = part->groups[group];
  if (!slot) slot = std::make_unique<group::GroupState>(group, limits());
  return *slot;
}

std::vector<const group::GroupState*> GroupCoordinator::groups() const {
  std::vector<const group::GroupState*> out;
  for (const auto& [p, part] : parts_)
    for (const auto& [name, g] : part.groups)
      if (g->phase() != group::GroupPhase::kDead) out.push_back(g.get());
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name() < b->name(); });
  return out;
}

void GroupCoordinator::find_coordinator(const std::string& group,
                                        std::function<void(Result<json>)> done) {
  auto locate = [this, group]() -> Result<json> {
    int32_t p = partition_of(group);
    if (p < 0) return Status(Code::kCoordinatorNotAvailable, kTopic + " is being created");
    const PartitionState& ps = ctx_.partitions.get(kTopic, PartitionId(p));
    if (ps.leader.value() < 0)
      return Status(Code::kCoordinatorNotAvailable, where(p) + " (group \"" + group + "\") has no leader now");
    std::string addr;
    if (ps.leader == ctx_.partitions.self()) {
      addr = ctx_.address;
    } else if (auto b = ctx_.brokers.find(ps.leader.value()); b != ctx_.brokers.end()) {
      addr = b->second.addr;
    } else {
      return Status(Code::kCoordinatorNotAvailable,
                    where(p) + " is led by node " + std::to_string(ps.leader.value()) + ", not known here yet");
    }
    return json{{"node", ps.leader.value()}, {"addr", addr}, {"partition", p}};
  };
  if (ctx_.logs.topic(kTopic) != nullptr) return done(locate());
  create_offsets_topic([done, locate](Status s) {
    if (!s.is_ok() && s.code() != Code::kTopicExists)
      return done(Status(Code::kCoordinatorNotAvailable, "create " + kTopic + ": " + s.message()));
    done(locate());
  });
}

void GroupCoordinator::create_offsets_topic(std::function<void(Status)> then) {
  creating_.push_back(std::move(then));
  if (creating_.size() > 1) return;  // already asked: wait with the others
  auto finish = [this, alive = alive_](Status s) {
    if (!*alive) return;
    for (auto& cb : std::exchange(creating_, {})) cb(s);
  };
  const BrokerConfig& c = ctx_.config;
  int32_t rf = c.offsets_topic_replication_factor;
  if (ctx_.coordinator != nullptr) {
    // Capped at the live brokers, so a small cluster (or a standalone
    // broker) gets an offsets topic at all.
    int32_t live = 0;
    for (const auto& [id, b] : ctx_.brokers) live += b.state == coord::BrokerState::kLive ? 1 : 0;
    rf = std::max(1, std::min(rf, live));
  } else {
    rf = 1;
  }
  // Segments of 100 MiB, as Kafka's offsets.topic.segment.bytes: compaction
  // cleans only closed segments, so a smaller one lets it start sooner.
  std::map<std::string, std::string> config = {{"cleanup.policy", "compact"},
                                               {"min.insync.replicas", std::to_string(std::min(2, rf))},
                                               {"segment.bytes", "104857600"}};
  if (ctx_.coordinator == nullptr) {
    auto created = ctx_.logs.create_topic(kTopic, c.offsets_topic_partitions, config);
    if (created.is_ok()) {
      log::info("created topic \"" + kTopic + "\" with " + std::to_string(c.offsets_topic_partitions) + " partitions");
      on_metadata();
    }
    return finish(created.status());
  }
  json req = {{"op", "create_topic"}, {"topic", kTopic}, {"partitions", c.offsets_topic_partitions},
              {"replication_factor", rf}, {"config", config}};
  int32_t n = c.offsets_topic_partitions;
  ctx_.coordinator->call(std::move(req), [finish, n, rf](Result<proto::Json> r) mutable {
    if (r.is_ok())
      log::info("created topic \"" + kTopic + "\" with " + std::to_string(n) + " partitions, replication factor " +
                std::to_string(rf));
    else if (r.status().code() != Code::kTopicExists)
      log::warn("create topic \"" + kTopic + "\": " + r.status().message());
    finish(r.status());
  });
}

// --- the ops ----------------------------------------------------------------

void GroupCoordinator::join(const std::string& group, group::JoinRequest req, JoinDone done) {
  if (Status s = check_coordinator(group); !s.is_ok()) {
    group::JoinAnswer a;
    a.status = s;
    return done(a);
  }
  int32_t p = partition_of(group);
  uint64_t ticket = next_ticket_++;
  parked_[ticket] = Parked{p, group, std::move(done)};
  bool existed = lookup(group) != nullptr;
  group::GroupEffects fx;
  get_or_create(group).join(req, ticket, now(), partition_counts(), fx);
  apply_effects(group, std::move(fx));
  // A refused join does not make a group exist (list_groups would show it).
  if (group::GroupState* g = lookup(group);
      !existed && g != nullptr && g->members().empty() && g->offsets().empty() && g->generation() == 0)
    loaded_part(group)->groups.erase(group);
  reschedule();
}

Result<group::PartitionSet> GroupCoordinator::sync(const std::string& group, const std::string& member,
                                                   int32_t generation) {
  KREEK_RETURN_IF_ERROR(check_coordinator(group));
  group::GroupState* g = lookup(group);
  if (g == nullptr) return Status(Code::kUnknownMember, "group \"" + group + "\" has no member \"" + member + "\"");
  return g->sync(member, generation, now());
}

Status GroupCoordinator::heartbeat(const std::string& group, const std::string& member, int32_t generation) {
  KREEK_RETURN_IF_ERROR(check_coordinator(group));
  group::GroupState* g = lookup(group);
  if (g == nullptr) return Status(Code::kUnknownMember, "group \"" + group + "\" has no member \"" + member + "\"");
  return g->heartbeat(member, generation, now());
}

Status GroupCoordinator::leave(const std::string& group, const std::string& member) {
  KREEK_RETURN_IF_ERROR(check_coordinator(group));
  group::GroupState* g = lookup(group);
  if (g == nullptr) return Status(Code::kUnknownMember, "group \"" + group + "\" has no member \"" + member + "\"");
  group::GroupEffects fx;
  Status s = g->leave(member, now(), partition_counts(), fx);
  apply_effects(group, std::move(fx));
  reschedule();
  return s;
}

void GroupCoordinator::commit(const std::string& group, const std::string& member, int32_t generation,
                              Offsets offsets, Done done) {
  if (Status s = check_coordinator(group); !s.is_ok()) return done(s);
  group::PartitionCounts counts = partition_counts();
  for (const auto& [tp, off] : offsets) {
    auto c = counts.find(tp.topic);
    if (c == counts.end()) return done(Status(Code::kUnknownTopic, "topic \"" + tp.topic + "\" does not exist"));
    if (tp.partition >= c->second)
      return done(Status(Code::kUnknownPartition, "topic \"" + tp.topic + "\" has no partition " +
                                                      std::to_string(tp.partition) + " (it has " +
                                                      std::to_string(c->second) + ")"));
  }
  bool existed = lookup(group) != nullptr;
  group::GroupState& g = get_or_create(group);
  if (Status s = g.check_commit(member, generation, now()); !s.is_ok()) {
    // A refused commit does not make a group exist.
    if (!existed) loaded_part(group)->groups.erase(group);
    return done(s);
  }
  int32_t p = partition_of(group);
  std::vector<KeyValue> kvs;
  kvs.reserve(offsets.size());
  int64_t ts = clock::now_ms();
  for (auto& [tp, off] : offsets) {
    off.commit_ts_ms = ts;
    kvs.emplace_back(group::offset_key(group, tp), group::encode_offset(off));
  }
  uint64_t incarnation = parts_[p].incarnation;
  append(p, std::move(kvs), [this, alive = alive_, p, incarnation, group, offsets = std::move(offsets),
                             done = std::move(done)](Status s) {
    if (!*alive) return done(s);
    auto it = parts_.find(p);
    // Applied only if the partition is still the one written to and loaded
    // (a failed reload meanwhile leaves it unloaded: the log has the commit).
    if (s.is_ok() && it != parts_.end() && it->second.incarnation == incarnation && it->second.loaded) {
      group::GroupState& g = get_or_create(group);
      for (const auto& [tp, off] : offsets) g.apply_offset(tp, off);
    }
    done(s);
  });
}

void GroupCoordinator::delete_group(const std::string& group, Done done) {
  if (Status s = check_coordinator(group); !s.is_ok()) return done(s);
  group::GroupState* g = lookup(group);
  if (g == nullptr || g->phase() == group::GroupPhase::kDead)
    return done(Status(Code::kGroupNotFound, "group \"" + group + "\" does not exist"));
  std::vector<KeyValue> kvs;  // taken first: a deleted group forgets its offsets
  for (const auto& [tp, off] : g->offsets()) kvs.emplace_back(group::offset_key(group, tp), std::nullopt);
  kvs.emplace_back(group::group_key(group), std::nullopt);
  if (Status s = g->mark_deleted(); !s.is_ok()) return done(s);
  int32_t p = partition_of(group);
  Part& part = parts_[p];
  part.groups.erase(group);
  uint64_t incarnation = part.incarnation;
  append(p, std::move(kvs), [this, alive = alive_, p, incarnation, group, done = std::move(done)](Status s) {
    // Not deleted after all (the tombstones may or may not be committed):
    // read back what the log says, unless the name was used again meanwhile.
    if (!s.is_ok() && *alive && lookup(group) == nullptr) reload_group(p, incarnation, group);
    if (s.is_ok()) log::info("deleted group \"" + group + "\"");
    done(s);
  });
}

// --- effects, writes and time ----------------------------------------------

void GroupCoordinator::answer(const group::JoinAnswer& a) {
  auto it = parked_.find(a.ticket);
  if (it == parked_.end()) return;  // answered already (its partition was dropped)
  JoinDone done = std::move(it->second.done);
  parked_.erase(it);
  done(a);
}

void GroupCoordinator::apply_effects(const std::string& group, group::GroupEffects&& fx) {
  std::vector<group::JoinAnswer> after_write;
  for (group::JoinAnswer& a : fx.joins) {
    if (a.status.is_ok() && fx.record)
      after_write.push_back(std::move(a));
    else
      answer(a);
  }
  if (!fx.record) return;
  int32_t p = partition_of(group);
  auto it = parts_.find(p);
  if (it == parts_.end()) return;
  uint64_t incarnation = it->second.incarnation;
  std::vector<KeyValue> kvs;
  // A record of an Empty group is still written (the log must not keep its
  // old members); one without offsets is then forgotten (forget_if_unused).
  kvs.emplace_back(group::group_key(group), group::encode_group(*fx.record));
  append(p, std::move(kvs), [this, alive = alive_, p, incarnation, group, after = std::move(after_write)](Status s) {
    if (!*alive) return;
    if (!s.is_ok()) {
      log::warn("write the record of group \"" + group + "\" to " + where(p) + ": " + s.message());
      for (group::JoinAnswer a : after) {
        a.status = not_coordinator("group \"" + group + "\": its new generation could not be written (" +
                                   s.message() + ")");
        a.generation = -1;
        answer(a);
      }
      reload_group(p, incarnation, group);
      return;
    }
    for (const group::JoinAnswer& a : after) answer(a);
    forget_if_unused(p, incarnation, group);
  });
}

void GroupCoordinator::forget_if_unused(int32_t p, uint64_t incarnation, const std::string& name) {
  // A group with neither members nor offsets does not exist for describe,
  // reset or delete; keeping it would list it, and hold memory for every
  // name ever used (kconsume -g NAME --commit=off). Its next member starts
  // it afresh: no member id of the old one is known to the new one, so a
  // straggler's ops are refused all the same.
  auto it = parts_.find(p);
  if (it == parts_.end() || it->second.incarnation != incarnation || !it->second.loaded) return;
  auto g = it->second.groups.find(name);
  if (g == it->second.groups.end() || !g->second->members().empty() || !g->second->offsets().empty()) return;
  for (const auto& [ticket, parked] : parked_)
    if (parked.group == name) return;
  it->second.groups.erase(g);
}

void GroupCoordinator::append(int32_t p, std::vector<KeyValue> kvs, Done done) {
  PartitionId pid(p);
  if (Status lead = ctx_.leadership(kTopic, pid); !lead.is_ok()) return done(as_group_error(lead));
  const storage::TopicInfo* t = ctx_.logs.topic(kTopic);
  storage::PartitionLog* log = ctx_.logs.log(kTopic, pid);
  if (t == nullptr || log == nullptr) return done(not_coordinator("no log of " + where(p) + " here"));
  const PartitionState& ps = ctx_.partitions.get(kTopic, pid);
  if (ps.offline) return done(io_error(ps.offline_reason));
  if (static_cast<int64_t>(ps.isr.size()) < t->config.min_insync_replicas)
    return done(Status(Code::kNotEnoughReplicas, where(p) + " has " + std::to_string(ps.isr.size()) +
                                                     " in-sync replicas, min.insync.replicas is " +
                                                     std::to_string(t->config.min_insync_replicas)));
  if (ctx_.replicas->isr_stalled(kTopic, pid))
    return done(Status(Code::kNotEnoughReplicas, where(p) + ": in-sync replicas stopped copying"));
  Offset end;
  for (size_t i = 0; i < kvs.size(); i += kRecordsPerBatch) {
    std::vector<proto::Record> records;
    for (size_t j = i; j < std::min(kvs.size(), i + kRecordsPerBatch); ++j) {
      proto::Record r;
      r.key = std::move(kvs[j].first);
      r.value = std::move(kvs[j].second);
      records.push_back(std::move(r));
    }
    std::string bytes = proto::encode_records(records);
    auto appended = log->append(bytes, static_cast<int32_t>(records.size()), crc32c::value(bytes), ps.epoch,
                                TimestampMs(clock::now_ms()));
    if (!appended.is_ok()) {
      if (appended.status().code() == Code::kIoError)
        log::error("append " + where(p) + ": " + appended.status().message());
      return done(as_group_error(appended.status().with_context("append to " + where(p))));
    }
    end = appended->last + 1;
  }
  ctx_.replicas->on_append(kTopic, pid);
  if (log->has_unsynced_closed()) ctx_.flusher->flush_closed(kTopic, pid);
  // Limitation: with flush.messages=1 the answer does not wait for the fsync;
  // the in-sync replicas having the records is what makes them safe here.
  if (log->config().flush_always()) ctx_.flusher->flush_partition(kTopic, pid);
  ctx_.replicas->wait_for_high_watermark(kTopic, pid, end, kWriteTimeoutMs,
                                         [done = std::move(done)](Status s) { done(as_group_error(s)); });
}

void GroupCoordinator::on_topic_deleted(const std::string& topic) {
  if (topic == kTopic) {
    std::vector<int32_t> led;
    for (const auto& [p, part] : parts_) led.push_back(p);
    for (int32_t p : led) drop(p, kTopic + " was deleted");
    return;
  }
  // Kafka drops a deleted topic's committed offsets: a topic made again
  // under the name starts without them.
  for (auto& [p, part] : parts_) {
    if (!part.loaded) continue;
    std::vector<KeyValue> kvs;
    for (auto& [name, g] : part.groups) {
      std::vector<group::TopicPartition> tps;
      for (const auto& [tp, off] : g->offsets())
        if (tp.topic == topic) tps.push_back(tp);
      for (const auto& tp : tps) {
        g->remove_offset(tp);
        kvs.emplace_back(group::offset_key(name, tp), std::nullopt);
      }
    }
    if (kvs.empty()) continue;
    size_t n = kvs.size();
    int32_t part_id = p;
    append(p, std::move(kvs), [part_id, n, topic](Status s) {
      if (!s.is_ok())
        log::warn("remove " + std::to_string(n) + " committed offset(s) of deleted topic \"" + topic + "\" from " +
                  where(part_id) + ": " + s.message());
    });
  }
}

void GroupCoordinator::tick() {
  if (stopped_) return;
  int64_t t_now = now();
  std::vector<int32_t> retry;
  std::vector<std::string> due;
  for (const auto& [p, part] : parts_) {
    if (!part.loaded) {
      if (part.retry_ms <= t_now) retry.push_back(p);
      continue;
    }
    for (const auto& [name, g] : part.groups)
      if (g->next_deadline_ms() <= t_now) due.push_back(name);
  }
  for (int32_t p : retry)
    if (parts_.count(p) != 0) load(p);
  group::PartitionCounts counts = partition_counts();
  for (const std::string& name : due) {
    group::GroupState* g = lookup(name);
    if (g == nullptr) continue;
    group::GroupEffects fx;
    g->tick(t_now, counts, fx);
    apply_effects(name, std::move(fx));
  }
  reschedule();
}

void GroupCoordinator::reschedule() {
  if (ctx_.loop == nullptr || stopped_) return;  // unit tests call tick() themselves
  int64_t next = INT64_MAX;
  for (const auto& [p, part] : parts_) {
    if (!part.loaded) {
      next = std::min(next, part.retry_ms);
      continue;
    }
    for (const auto& [name, g] : part.groups) next = std::min(next, g->next_deadline_ms());
  }
  if (!timer_) timer_ = ctx_.loop->make_timer();
  if (next == INT64_MAX) return timer_->stop();
  timer_->start(std::max<int64_t>(0, next - now()), 0, [this] { tick(); });
}

}  // namespace kreek::broker
