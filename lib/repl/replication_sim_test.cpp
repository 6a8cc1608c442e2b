// Seeded, deterministic simulation of replication: 3 (sometimes 5) brokers
// holding one or two partitions, driven by the real coord::Controller and
// MetadataImage (sessions, fencing, elections, alter_partition compare-and-set)
// and the real LeaderState, LeaderEpochCache and truncation_step, over
// simulated logs and a network that delays, loses and reorders. Brokers crash
// (kill -9: the log stays), restart, and lose the coordinator while still
// serving producers and followers. After every step the checker looks at every
// log and high watermark. A failing seed is printed; rerun it alone with
// KREEK_REPL_SIM_SEED=N (and KREEK_REPL_SIM_SEEDS=count for more seeds).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "coord/controller.h"
#include "coord/metadata_image.h"
#include "coord/session_tracker.h"
#include "repl/leader_state.h"
#include "repl/truncation.h"
#include "storage/leader_epoch_cache.h"

namespace kreek::repl {
namespace {

using coord::Controller;
using coord::MetadataImage;
using coord::PartitionInfo;
using coord::Record;
using storage::EpochEnd;
using storage::LeaderEpochCache;

inline constexpr int64_t kSessionMs = 3000;
inline constexpr int64_t kLagMaxMs = 2000;
inline constexpr int64_t kResendMs = 400;  // a follower re-asks after this long without an answer
inline constexpr int kMaxFetch = 8;         // records per fetch answer

// Rules the simulation can be told to break, to show the checker catches them.
enum class Broken {
  kNone,
  kTruncateToHw,   // pre-KIP-101: a new follower cuts its log at its remembered HW
  kHwFromMax,      // the leader publishes the max LEO over all replicas as its HW
  kOneShotCut,     // truncation_offset taken as final even when it is only a first step
  kNoBrokerEpoch,  // ISR additions not checked against the follower's current registration (KIP-903)
};

struct Rec {
  LeaderEpoch epoch;
  int64_t value = 0;
  bool operator==(const Rec&) const = default;
};

// One broker's copy of one partition: what survives a kill -9 (log, epoch
// history, checkpointed HW) and what does not (role state).
struct Replica {
  std::vector<Rec> log;  // index = offset
  LeaderEpochCache epochs;
  Offset hw{0};
  // Volatile.
  std::unique_ptr<LeaderState> leader;
  NodeId following = coord::kNoLeader;
  LeaderEpoch follow_epoch{-1};
  bool need_truncation = false;
  bool outstanding = false;
  int64_t sent_at = 0;
  int64_t request_id = 0;
  int32_t seen_partition_epoch = -1;

  Offset leo() const { return Offset(static_cast<int64_t>(log.size())); }
  void reset_volatile() {
    leader.reset();
    following = coord::kNoLeader;
    follow_epoch = LeaderEpoch(-1);
    need_truncation = false;
    outstanding = false;
    seen_partition_epoch = -1;
  }
};

struct Broker {
  bool running = false;
  bool isolated = false;  // cut off from the coordinator; still serves data
  bool stopping = false;  // SIGTERM: controlled shutdown asked
  bool frozen = false;    // SIGSTOP: does nothing; its mail waits; resumes with what it knew
  int64_t broker_epoch = 0;
  int incarnations = 0;
  std::string data_dir;
  MetadataImage view;  // its own copy of the metadata, possibly stale
  std::vector<Replica> parts;
};

struct Msg {
  enum Kind { kFetch, kFetchAnswer, kEpochAsk, kEpochAnswer } kind;
  int from = 0, to = 0, part = 0;
  int64_t request_id = 0;
  int64_t deliver_at = 0;
  LeaderEpoch leader_epoch;   // the epoch the follower believes in
  int64_t broker_epoch = 0;   // the follower's registration
  Offset offset;              // fetch offset
  LeaderEpoch asked;          // offsets_for_epoch: the follower's latest epoch
  EpochEnd answer;
  std::vector<Rec> records;
  Offset hw;
  int error = 0;  // 0 ok, 1 not leader at that epoch (retry), 2 offset past the leader's end
};

struct PendingAck {
  int broker = 0, part = 0;
  LeaderEpoch epoch;
  Offset offset;
  int64_t value = 0;
};

class Simulation {
 public:
  Simulation(uint64_t seed, Broken broken = Broken::kNone, bool unclean = false)
      : rng_(seed), sessions_(kSessionMs), broken_(broken), unclean_(unclean) {
    n_brokers_ = seed % 4 == 0 ? 5 : 3;
    n_parts_ = 1 + static_cast<int>(seed % 2);
    min_insync_ = unclean ? 1 : 1 + pick(2);
    brokers_.resize(n_brokers_);
    for (int n = 0; n < n_brokers_; ++n) brokers_[n].data_dir = "dir-" + std::to_string(n);
  }

  std::string run(int steps) {
    for (int n = 0; n < n_brokers_; ++n) start(n);
    std::map<std::string, std::string> config{{"min.insync.replicas", std::to_string(min_insync_)}};
    if (unclean_) config["unclean.leader.election.enable"] = "true";
    auto r = controller_.create_topic(image_, coord::CreateTopicRequest{"t", "t-id", n_parts_, n_brokers_, config, {}});
    REQUIRE_MESSAGE(r.is_ok(), r.status().to_string());
    decide(*r);
    for (int n = 0; n < n_brokers_; ++n) catch_up(n, true);
    for (step_ = 0; step_ < steps; ++step_) {
      random_step();
      if (std::string v = check(); !v.empty()) return at(v);
    }
    // Heal: everyone runs, reaches the coordinator and replicates until quiet.
    for (int n = 0; n < n_brokers_; ++n) {
      // One that began a controlled shutdown finishes it and starts again
      // (the coordinator keeps a stopping broker out of new leaderships).
      if (brokers_[n].stopping) crash(n);
      brokers_[n].isolated = false;
      brokers_[n].stopping = false;
      brokers_[n].frozen = false;
      if (!brokers_[n].running) start(n);
    }
    for (int round = 0; round < 600; ++round, ++step_) {
      now_ += 20;
      expire_sessions();
      int n = round % n_brokers_;
      if (!brokers_[n].running) start(n);  // a new disk waits for its old session to end
      heartbeat(n);
      catch_up(n, true);
      if (round % 7 == 0) decide(controller_.elect_leaders(image_));
      follower_tick(n);
      leader_tick(n);
      while (!net_.empty()) deliver(0, false);
      settle_acks();
      if (std::string v = check(); !v.empty()) return at("healing: " + v);
    }
    if (std::string v = liveness(); !v.empty()) return "liveness: " + v;
    return "";
  }

  int acked() const { return acked_count_; }
  struct Stats {
    int64_t leaderships = 0, truncated_records = 0, crashes = 0, isr_changes = 0, produced = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  std::string at(const std::string& v) { return "step " + std::to_string(step_) + ": " + v; }
  // KREEK_REPL_SIM_TRACE=1 prints what happens, for reading a failing seed.
  template <typename... A>
  void trace(const A&... a) {
    if (!tracing_) return;
    std::string line = "[" + std::to_string(step_) + " t=" + std::to_string(now_) + "] ";
    ((line += a), ...);
    fprintf(stderr, "%s\n", line.c_str());
  }
  static std::string str(int64_t v) { return std::to_string(v); }
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  std::string where(int b, int p) { return "node " + std::to_string(b) + " t/" + std::to_string(p) + " "; }

  void decide(const std::vector<Record>& records) {
    for (const Record& r : records) {
      Status s = image_.apply(image_.next_offset(), r);
      REQUIRE_MESSAGE(s.is_ok(), s.to_string());
      log_.push_back(r);
    }
  }

  // ---- the control plane ----------------------------------------------

  void start(int n) {
    Broker& b = brokers_[n];
    auto r = controller_.register_broker(
        image_, coord::RegisterBroker{NodeId(n), std::to_string(++b.incarnations), b.data_dir,
                                      "h:" + std::to_string(n), ""});
    if (!r.is_ok()) {
      // A new disk under a node id whose old registration is still live.
      REQUIRE_MESSAGE(r.status().code() == Code::kDuplicateBroker, r.status().to_string());
      return;
    }
    decide(*r);
    b.running = true;
    b.isolated = false;
    b.stopping = false;
    b.frozen = false;
    b.broker_epoch = image_.next_offset() - 1;
    trace("node ", str(n), " starts at broker epoch ", str(b.broker_epoch));
    b.view = MetadataImage();
    b.parts.resize(n_parts_);
    for (Replica& rep : b.parts) rep.reset_volatile();
    sessions_.touch(NodeId(n), b.broker_epoch, now_);
    // A starting broker replays the metadata to the end before it acts
    // (it is fenced until then anyway), then is unfenced by its heartbeat.
    catch_up(n, true);
    heartbeat(n);
  }

  void crash(int n) {
    Broker& b = brokers_[n];
    if (!b.running) return;
    b.running = false;
    b.frozen = false;
    ++stats_.crashes;
    trace("node ", str(n), " stops");
    for (Replica& r : b.parts) r.reset_volatile();
  }

  void heartbeat(int n) {
    Broker& b = brokers_[n];
    if (!b.running || b.isolated || b.frozen) return;
    auto r = controller_.heartbeat(
        image_, coord::HeartbeatRequest{NodeId(n), b.broker_epoch, b.view.next_offset() - 1, b.stopping});
    if (!r.is_ok()) {
      // Fenced and replaced: the process registers again (a restart).
      crash(n);
      start(n);
      return;
    }
    decide(r->records);
    sessions_.touch(NodeId(n), b.broker_epoch, now_);
    if (r->shutdown_ready) {  // its leaderships moved and it is fenced: it exits
      sessions_.forget(NodeId(n));
      crash(n);
    }
  }

  void expire_sessions() {
    for (auto [node, epoch] : sessions_.expired(now_)) {
      trace("node ", str(node.value()), " fenced (session)");
      decide(controller_.fence(image_, node));
      sessions_.forget(node);
    }
  }

  // The broker applies metadata records (some, or all) and reacts.
  void catch_up(int n, bool all) {
    Broker& b = brokers_[n];
    if (!b.running || b.isolated || b.frozen) return;
    int64_t end = static_cast<int64_t>(log_.size());
    int64_t to = all ? end : std::min(end, b.view.next_offset() + 1 + pick(6));
    while (b.view.next_offset() < to) {
      Status s = b.view.apply(b.view.next_offset(), log_[static_cast<size_t>(b.view.next_offset())]);
      REQUIRE_MESSAGE(s.is_ok(), s.to_string());
    }
    for (int p = 0; p < n_parts_; ++p) reconcile(n, p);
  }

  // Become leader, follower or nothing for partition p as the view says.
  void reconcile(int n, int p) {
    Broker& b = brokers_[n];
    Replica& r = b.parts[p];
    const PartitionInfo* info = b.view.partition("t", p);
    if (info == nullptr || !info->is_replica(NodeId(n))) return;
    if (info->leader == NodeId(n)) {
      if (r.leader && r.leader->epoch() == info->leader_epoch) {
        if (info->partition_epoch != r.leader->partition_epoch()) {
          r.leader->on_metadata(info->replicas, info->isr, info->partition_epoch);
          r.hw = leader_hw(n, p);
        }
        return;
      }
      auto assigned = r.epochs.assign(info->leader_epoch, r.leo());
      if (!assigned.is_ok()) {
        violation_ = where(n, p) + "cannot lead: " + assigned.status().to_string();
        return;
      }
      auto [it, fresh] = leaders_.emplace(std::make_pair(p, info->leader_epoch.value()), n);
      if (!fresh && it->second != n)
        violation_ = "t/" + std::to_string(p) + " two leaders in leader epoch " +
                     std::to_string(info->leader_epoch.value());
      r.reset_volatile();
      ++stats_.leaderships;
      trace("node ", str(n), " leads t/", str(p), " at epoch ", str(info->leader_epoch.value()), " leo ",
            str(r.leo().value()), " hw ", str(r.hw.value()), " isr ", coord::nodes_to_json(info->isr).dump());
      r.leader = std::make_unique<LeaderState>(NodeId(n), info->leader_epoch, r.leo(), r.hw, info->replicas,
                                               info->isr, info->partition_epoch, now_);
      r.hw = leader_hw(n, p);
      return;
    }
    if (info->leader == coord::kNoLeader) {
      r.reset_volatile();
      return;
    }
    if (r.following == info->leader && r.follow_epoch == info->leader_epoch) return;
    r.reset_volatile();
    r.following = info->leader;
    r.follow_epoch = info->leader_epoch;
    r.need_truncation = true;
    if (broken_ == Broken::kTruncateToHw) {
      truncate(r, r.hw);
      r.need_truncation = false;
    }
  }

  Offset leader_hw(int n, int p) {
    Replica& r = brokers_[n].parts[p];
    if (broken_ != Broken::kHwFromMax) return r.leader->high_watermark();
    Offset m = r.leader->log_end();
    for (const FollowerView& f : r.leader->followers()) m = std::max(m, f.leo);
    return std::max(r.hw, std::min(m, r.leo()));
  }

  void truncate(Replica& r, Offset to) {
    if (to < r.leo()) stats_.truncated_records += r.leo() - to;
    if (to < r.leo()) trace("truncate ", str(r.leo().value()), " -> ", str(to.value()));
    if (to < r.leo()) r.log.resize(static_cast<size_t>(to.value()));
    r.epochs.truncate_from_end(r.leo());
    // The HW cannot stand above the log; if this lowers it, the checker says so.
    if (r.hw > r.leo()) r.hw = r.leo();
  }

  // The leader proposes ISR changes through the coordinator.
  void leader_tick(int n) {
    Broker& b = brokers_[n];
    if (!b.running || b.frozen) return;
    for (int p = 0; p < n_parts_; ++p) {
      Replica& r = b.parts[p];
      if (!r.leader) continue;
      auto change = r.leader->isr_change(now_, kLagMaxMs);
      if (!change) continue;
      r.leader->proposal_sent(*change);
      if (b.isolated) {  // the request times out
        r.leader->proposal_done();
        continue;
      }
      coord::AlterPartitionRequest req{"t", p, NodeId(n), b.broker_epoch, r.leader->epoch(),
                                       r.leader->partition_epoch(), *change, {}};
      // KIP-903: each addition names the broker epoch the leader saw it fetch
      // with, and the coordinator refuses a stale one. The broken variant
      // names the current registration instead, as if nothing were checked.
      for (const FollowerView& f : r.leader->followers()) {
        const coord::BrokerInfo* m = image_.broker(f.node);
        req.member_epochs[f.node.value()] =
            broken_ == Broken::kNoBrokerEpoch && m != nullptr ? m->broker_epoch : f.broker_epoch;
      }
      auto res = controller_.alter_partition(image_, req);
      if (res.is_ok()) decide(*res), ++stats_.isr_changes;
      trace("node ", str(n), " proposes isr ", coord::nodes_to_json(*change).dump(), " for t/", str(p), ": ",
            res.is_ok() ? "ok" : res.status().to_string());
      if (!res.is_ok() && res.status().code() == Code::kInvalidRequest && pick(2) == 0)
        r.leader->proposal_refused();
      else
        r.leader->proposal_done();  // accepted, refused as stale, or the answer was lost
      if (pick(2) == 0) catch_up(n, true);
    }
  }

  // ---- the data plane ---------------------------------------------------

  void send(Msg m) {
    // Now and then a message sits in a stalled socket for seconds and
    // arrives long after its sender moved on.
    m.deliver_at = now_ + (pick(30) == 0 ? pick(5000) : pick(300));
    net_.push_back(std::move(m));
  }

  void follower_tick(int n) {
    Broker& b = brokers_[n];
    if (!b.running || b.frozen) return;
    for (int p = 0; p < n_parts_; ++p) {
      Replica& r = b.parts[p];
      if (r.following == coord::kNoLeader) continue;
      if (r.outstanding && now_ - r.sent_at < kResendMs) continue;
      Msg m{};
      m.from = n;
      m.to = r.following.value();
      m.part = p;
      m.request_id = ++request_ids_;
      m.leader_epoch = r.follow_epoch;
      m.broker_epoch = b.broker_epoch;
      if (r.need_truncation) {
        if (r.epochs.entries().empty()) {  // an empty log has nothing to cut
          truncate(r, Offset(0));
          r.need_truncation = false;
          continue;
        }
        m.kind = Msg::kEpochAsk;
        m.asked = r.epochs.latest_epoch();
      } else {
        m.kind = Msg::kFetch;
        m.offset = r.leo();
      }
      r.outstanding = true;
      r.sent_at = now_;
      r.request_id = m.request_id;
      send(std::move(m));
    }
  }

  // Delivers one message whose time has come (any, when `due_only` is false;
  // a random one, so messages overtake each other); sometimes loses it.
  void deliver(int loss_percent, bool due_only) {
    std::vector<size_t> ready;
    for (size_t i = 0; i < net_.size(); ++i)
      if ((!due_only || net_[i].deliver_at <= now_) && !brokers_[net_[i].to].frozen) ready.push_back(i);
    if (ready.empty()) return;
    size_t i = ready[static_cast<size_t>(pick(static_cast<int>(ready.size())))];
    Msg m = std::move(net_[i]);
    net_.erase(net_.begin() + static_cast<std::ptrdiff_t>(i));
    if (pick(100) < loss_percent || !brokers_[m.to].running) return;
    switch (m.kind) {
      case Msg::kFetch: serve_fetch(m); break;
      case Msg::kEpochAsk: serve_epoch(m); break;
      case Msg::kFetchAnswer: take_fetch(m); break;
      case Msg::kEpochAnswer: take_epoch(m); break;
    }
  }

  // The leader's side of a follower fetch.
  void serve_fetch(const Msg& m) {
    Replica& r = brokers_[m.to].parts[m.part];
    Msg a = m;
    a.kind = Msg::kFetchAnswer;
    std::swap(a.from, a.to);
    if (!r.leader || r.leader->epoch() != m.leader_epoch) {
      a.error = 1;
    } else if (m.offset > r.leo()) {
      a.error = 2;
    } else {
      if (broken_ == Broken::kNoBrokerEpoch)
        r.leader->on_follower_fetch(NodeId(m.from), m.offset, now_);
      else
        r.leader->on_follower_fetch(NodeId(m.from), m.offset, now_, m.broker_epoch);
      r.hw = leader_hw(m.to, m.part);
      for (Offset o = m.offset; o < r.leo() && a.records.size() < kMaxFetch; o += 1)
        a.records.push_back(r.log[static_cast<size_t>(o.value())]);
      a.hw = r.hw;
    }
    send(std::move(a));
  }

  void serve_epoch(const Msg& m) {
    Replica& r = brokers_[m.to].parts[m.part];
    Msg a = m;
    a.kind = Msg::kEpochAnswer;
    std::swap(a.from, a.to);
    if (!r.leader || r.leader->epoch() != m.leader_epoch)
      a.error = 1;
    else
      a.answer = r.epochs.end_offset_for(m.asked, r.leo());
    send(std::move(a));
  }

  // An answer is taken only by the request it answers (the follower state
  // that sent it), so a late or duplicated answer changes nothing.
  Replica* answered(const Msg& m) {
    Replica& r = brokers_[m.to].parts[m.part];
    if (!r.outstanding || r.request_id != m.request_id || r.following != NodeId(m.from) ||
        r.follow_epoch != m.leader_epoch)
      return nullptr;
    r.outstanding = false;
    return &r;
  }

  void take_epoch(const Msg& m) {
    Replica* r = answered(m);
    if (r == nullptr || m.error != 0 || !r->need_truncation) return;
    Offset leo = r->leo();
    TruncationStep cut = truncation_step(m.answer, leo, [&](LeaderEpoch e) { return r->epochs.end_offset_for(e, leo); });
    truncate(*r, cut.offset.value_or(Offset(0)));
    r->need_truncation = !cut.complete && broken_ != Broken::kOneShotCut;
  }

  void take_fetch(const Msg& m) {
    Replica* r = answered(m);
    if (r == nullptr) return;
    if (m.error == 2) r->need_truncation = true;
    if (m.error != 0 || r->need_truncation || m.offset != r->leo()) return;
    for (const Rec& rec : m.records) {
      auto ok = r->epochs.assign(rec.epoch, r->leo());
      if (!ok.is_ok()) {
        violation_ = where(m.to, m.part) + "follower append refused: " + ok.status().to_string();
        return;
      }
      r->log.push_back(rec);
    }
    Offset hw = std::min(m.hw, r->leo());
    if (hw > r->hw) r->hw = hw;
  }

  // A producer writes to a broker that believes it leads (the current
  // leader, or one that lost its session and does not know yet).
  void produce() {
    int p = pick(n_parts_);
    int n = pick(n_brokers_);
    if (pick(2) == 0) {
      const PartitionInfo* info = image_.partition("t", p);
      if (info->has_leader()) n = info->leader.value();
    }
    Broker& b = brokers_[n];
    Replica& r = b.parts[p];
    if (!b.running || b.frozen || !r.leader) return;
    bool acks_all = pick(4) != 0;
    if (acks_all && static_cast<int>(r.leader->isr().size()) < min_insync_) return;  // NOT_ENOUGH_REPLICAS
    int count = 1 + pick(3);
    for (int i = 0; i < count; ++i) {
      Offset o = r.leo();
      r.log.push_back({r.leader->epoch(), ++next_value_});
      ++stats_.produced;
      if (acks_all) pending_.push_back({n, p, r.leader->epoch(), o, next_value_});
    }
    r.leader->on_append(r.leo());
    r.hw = leader_hw(n, p);
  }

  // acks=all answers once the leader's HW passes the record; a leader that
  // lost its epoch answers with a timeout (not acknowledged).
  void settle_acks() {
    std::vector<PendingAck> keep;
    for (const PendingAck& a : pending_) {
      Broker& b = brokers_[a.broker];
      Replica& r = b.parts[a.part];
      if (!b.running || !r.leader || r.leader->epoch() != a.epoch) continue;
      if (r.hw > a.offset && !b.frozen) {
        acked_[{a.part, a.offset.value()}] = a.value;
        ++acked_count_;
      } else {
        keep.push_back(a);
      }
    }
    pending_ = std::move(keep);
  }

  // One random event. Routine work (heartbeats, metadata, fetching, ISR
  // proposals) runs for every broker at once, as the brokers' loops would;
  // the faults hit one broker at a time.
  void random_step() {
    int n = pick(n_brokers_);
    Broker& b = brokers_[n];
    switch (pick(32)) {
      case 0:
      case 1:
        now_ += pick(500);
        expire_sessions();
        break;
      case 2:
      case 3:
        for (int i = 0; i < n_brokers_; ++i)
          if (pick(4) != 0) heartbeat(i);
        break;
      case 4:
      case 5:
        for (int i = 0; i < n_brokers_; ++i)
          if (pick(2) == 0) catch_up(i, pick(2) == 0);
        break;
      case 6:
      case 7:
      case 8:
      case 9:
      case 10:
        produce();
        break;
      case 11:
      case 12:
      case 13:
        for (int i = 0; i < n_brokers_; ++i) follower_tick(i);
        break;
      case 14:
      case 15:
        for (int i = 0; i < n_brokers_; ++i) leader_tick(i);
        break;
      case 16:
        if (pick(4) == 0) crash(n);  // kill -9: the log stays
        break;
      case 17:
      case 18: {
        std::vector<int> down;
        for (int i = 0; i < n_brokers_; ++i)
          if (!brokers_[i].running) down.push_back(i);
        if (!down.empty()) start(down[static_cast<size_t>(pick(static_cast<int>(down.size())))]);
        break;
      }
      case 19:
        decide(controller_.elect_leaders(image_));
        break;
      case 20:
        if (b.running && pick(4) == 0) b.stopping = true;  // SIGTERM: controlled shutdown
        break;
      case 22:
        // A dead broker comes back with an empty disk. Only once the
        // coordinator has fenced it and it is in no ISR: losing the last copy
        // of a log to a dead disk is data loss no protocol prevents.
        if (!b.running && !image_.is_active(NodeId(n))) {
          bool in_isr = false;
          for (int p = 0; p < n_parts_; ++p) in_isr = in_isr || image_.partition("t", p)->in_isr(NodeId(n));
          if (in_isr) break;
          b.data_dir = "dir-" + std::to_string(n) + "-" + std::to_string(step_);
          for (int p = 0; p < n_parts_; ++p) {
            b.parts[p] = Replica();
            last_hw_.erase({n, p});
          }
          trace("node ", str(n), " gets a new disk");
          start(n);
        }
        break;
      case 23:
        // SIGSTOP for a while, then SIGCONT.
        if (b.running && (b.frozen || pick(3) == 0)) b.frozen = !b.frozen;
        break;
      case 21:
        // Cut off from the coordinator (it keeps serving data), or back.
        if (b.running && (b.isolated || pick(4) == 0)) b.isolated = !b.isolated;
        break;
      default:
        for (int i = 0; i < 3; ++i) deliver(5, pick(4) != 0);
        now_ += pick(40);
        break;
    }
    settle_acks();
  }

  // ---- what must hold ---------------------------------------------------

  std::string check() {
    if (!violation_.empty()) return violation_;
    for (int p = 0; p < n_parts_; ++p) {
      std::string part = "t/" + std::to_string(p) + " ";
      for (int n = 0; n < n_brokers_; ++n) {
        const Replica& r = brokers_[n].parts[p];
        auto [it, fresh] = last_hw_.emplace(std::make_pair(n, p), r.hw);
        if (r.hw < it->second)
          return where(n, p) + "HW went back from " + std::to_string(it->second.value()) + " to " +
                 std::to_string(r.hw.value());
        it->second = r.hw;
        for (size_t o = 1; o < r.log.size(); ++o)
          if (r.log[o].epoch < r.log[o - 1].epoch)
            return where(n, p) + "epochs go back at offset " + std::to_string(o);
        if (std::string v = history_matches_log(r); !v.empty()) return where(n, p) + v;
      }
      // Every acknowledged record is in every current ISR member's log.
      const PartitionInfo& info = *image_.partition("t", p);
      for (auto it = acked_.lower_bound({p, 0}); it != acked_.end() && it->first.first == p; ++it) {
        size_t o = static_cast<size_t>(it->first.second);
        for (NodeId m : info.isr) {
          const Replica& r = brokers_[m.value()].parts[p];
          if (o >= r.log.size() || r.log[o].value != it->second)
            return part + "acknowledged record " + std::to_string(it->second) + " at offset " +
                   std::to_string(o) + " missing from ISR member " + std::to_string(m.value());
        }
      }
      // Replicas agree below their HWs.
      for (int a = 0; a < n_brokers_; ++a)
        for (int c = a + 1; c < n_brokers_; ++c) {
          const Replica& x = brokers_[a].parts[p];
          const Replica& y = brokers_[c].parts[p];
          int64_t below = std::min({x.hw, y.hw, x.leo(), y.leo()}).value();
          for (int64_t o = 0; o < below; ++o)
            if (!(x.log[static_cast<size_t>(o)] == y.log[static_cast<size_t>(o)]))
              return part + "nodes " + std::to_string(a) + " and " + std::to_string(c) + " differ at offset " +
                     std::to_string(o) + " below their HWs";
        }
    }
    return "";
  }

  // The epoch history is exactly the log's epoch changes, plus at most one
  // epoch that starts at the log end (a leader that has written nothing yet).
  static std::string history_matches_log(const Replica& r) {
    const auto& es = r.epochs.entries();
    size_t i = 0;
    for (size_t o = 0; o < r.log.size(); ++o) {
      if (o != 0 && r.log[o].epoch == r.log[o - 1].epoch) continue;
      if (i >= es.size() || es[i].epoch != r.log[o].epoch || es[i].start != Offset(static_cast<int64_t>(o)))
        return "epoch history does not match the log at offset " + std::to_string(o);
      ++i;
    }
    if (es.size() > i + 1 || (es.size() == i + 1 && es[i].start != r.leo()))
      return "epoch history has entries past the log";
    return "";
  }

  // After healing, every partition has a leader whose HW reached its log end.
  std::string liveness() {
    for (int p = 0; p < n_parts_; ++p) {
      const PartitionInfo& info = *image_.partition("t", p);
      if (!info.has_leader()) return "t/" + std::to_string(p) + " has no leader after healing";
      const Replica& r = brokers_[info.leader.value()].parts[p];
      if (!r.leader) return "t/" + std::to_string(p) + " leader does not know it leads after healing";
      if (r.hw != r.leo())
        return "t/" + std::to_string(p) + " HW " + std::to_string(r.hw.value()) + " short of the log end " +
               std::to_string(r.leo().value()) + " after healing";
    }
    return "";
  }

  std::mt19937_64 rng_;
  Controller controller_;
  coord::SessionTracker sessions_;
  MetadataImage image_;
  std::vector<Record> log_;
  Broken broken_;
  bool unclean_;
  int n_brokers_ = 3;
  int n_parts_ = 1;
  int min_insync_ = 1;
  std::vector<Broker> brokers_;
  std::vector<Msg> net_;
  std::vector<PendingAck> pending_;
  std::map<std::pair<int, int64_t>, int64_t> acked_;  // (partition, offset) -> value
  std::map<std::pair<int, int32_t>, int> leaders_;     // (partition, leader epoch) -> node
  std::map<std::pair<int, int>, Offset> last_hw_;
  std::string violation_;
  int64_t now_ = 0;
  int64_t next_value_ = 0;
  int64_t request_ids_ = 0;
  int acked_count_ = 0;
  int step_ = 0;
  Stats stats_;
  bool tracing_ = std::getenv("KREEK_REPL_SIM_TRACE") != nullptr;
};

// Runs seeds [first, first+count) (or the env's); returns the first failure.
struct Outcome {
  Simulation::Stats stats;
  uint64_t seed = 0;
  std::string failure;
  int failures = 0;
  int64_t acked = 0;
};

// `stop_at_first`: a negative control needs one catch, not a census.
Outcome run_seeds(uint64_t first, uint64_t count, int steps, Broken broken, bool unclean, bool stop_at_first = false) {
  Outcome out;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    Simulation sim(seed, broken, unclean);
    std::string failure = sim.run(steps);
    out.acked += sim.acked();
    out.stats.leaderships += sim.stats().leaderships;
    out.stats.truncated_records += sim.stats().truncated_records;
    out.stats.crashes += sim.stats().crashes;
    out.stats.isr_changes += sim.stats().isr_changes;
    out.stats.produced += sim.stats().produced;
    // A negative control wants a broken safety rule caught, not a stall.
    bool counts = !failure.empty() && (broken == Broken::kNone && !unclean ? true : failure.rfind("liveness", 0) != 0);
    if (counts && out.failures++ == 0) out.seed = seed, out.failure = failure;
    if (counts && stop_at_first) break;
  }
  return out;
}

inline constexpr int kSteps = 1500;

}  // namespace

TEST_SUITE("repl") {
  TEST_CASE("simulation: acknowledged records survive crashes, pauses and elections over many seeds") {
    uint64_t first = 1, count = 150;
    if (const char* s = std::getenv("KREEK_REPL_SIM_SEED")) first = std::strtoull(s, nullptr, 10), count = 1;
    if (const char* s = std::getenv("KREEK_REPL_SIM_SEEDS")) count = std::strtoull(s, nullptr, 10);
    Outcome o = run_seeds(first, count, kSteps, Broken::kNone, false);
    if (o.failures != 0) FAIL("seed " << o.seed << ": " << o.failure << " (" << o.failures << " seeds failed)");
    // The runs must actually commit something, or they prove nothing.
    CHECK(o.acked > static_cast<int64_t>(count) * 10);
    MESSAGE("replication simulation: " << count << " seeds from " << first << ", " << o.acked
                                       << " records acknowledged of " << o.stats.produced << " written, "
                                       << o.stats.leaderships << " leaderships, " << o.stats.isr_changes
                                       << " ISR changes, " << o.stats.crashes << " crashes, "
                                       << o.stats.truncated_records << " records truncated");
  }

  TEST_CASE("simulation negative control: unclean election with min.insync.replicas=1 loses acknowledged records") {
    uint64_t first = 1, count = 60;
    if (const char* s = std::getenv("KREEK_REPL_SIM_SEED")) first = std::strtoull(s, nullptr, 10), count = 1;
    Outcome o = run_seeds(first, count, kSteps, Broken::kNone, true, true);
    CHECK_MESSAGE(o.failures > 0, "unclean elections never lost an acknowledged record");
    MESSAGE("unclean: caught at seed " << o.seed << ": " << o.failure);
  }

  TEST_CASE("simulation negative control: truncating to the remembered HW (pre-KIP-101) is caught") {
    Outcome o = run_seeds(1, 200, kSteps, Broken::kTruncateToHw, false, true);
    CHECK_MESSAGE(o.failures > 0, "truncating to the HW was never caught");
    MESSAGE("truncate to HW: caught at seed " << o.seed << ": " << o.failure);
  }

  TEST_CASE("simulation negative control: a follower back with an empty disk joins the ISR on its old LEO") {
    Outcome o = run_seeds(1, 300, kSteps, Broken::kNoBrokerEpoch, false, true);
    CHECK_MESSAGE(o.failures > 0, "ISR additions without broker epochs were never caught");
    MESSAGE("no broker epoch: caught at seed " << o.seed << ": " << o.failure);
  }

  TEST_CASE("simulation negative control: an HW from the largest LEO instead of the ISR's smallest is caught") {
    Outcome o = run_seeds(1, 200, kSteps, Broken::kHwFromMax, false, true);
    CHECK_MESSAGE(o.failures > 0, "an HW over all replicas' max was never caught");
    MESSAGE("HW from max: caught at seed " << o.seed << ": " << o.failure);
  }
}

}  // namespace kreek::repl
