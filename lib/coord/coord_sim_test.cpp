// Seeded, deterministic simulation of the coordinator: brokers that crash,
// restart, pause past their sessions, impersonate each other, shut down in
// order, send ISR changes from stale views and have their replicas reassigned
// (moves started, replaced and cancelled), all against one Controller and
// MetadataImage. After every step the invariant checker looks at the image;
// every few steps the whole log is replayed and must give the same image.
// A failing seed is printed, and reruns alone with KREEK_SIM_SEED=N.
#include <doctest/doctest.h>

#include <cstdlib>
#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "coord/controller.h"
#include "coord/metadata_image.h"
#include "coord/session_tracker.h"

namespace kreek::coord {
namespace {

// What must hold of every image the coordinator ever reaches, and of each
// move from one to the next. Returns "" or the first violation.
class InvariantChecker {
 public:
  explicit InvariantChecker(const Controller& controller) : controller_(controller) {}

  std::string check(const MetadataImage& img) {
    for (const auto& [name, t] : img.topics()) {
      for (size_t i = 0; i < t.partitions.size(); ++i) {
        const PartitionInfo& p = t.partitions[i];
        std::string where = name + "/" + std::to_string(i) + " ";
        auto key = std::make_pair(t.topic_id, static_cast<int32_t>(i));
        auto prev_it = last_.find(key);
        if (prev_it != last_.end()) {
          const PartitionInfo& prev = prev_it->second;
          if (p.leader_epoch < prev.leader_epoch) return where + "leader epoch went back";
          if (p.partition_epoch < prev.partition_epoch) return where + "partition epoch went back";
          if (p.leader != prev.leader && p.leader != kNoLeader && !prev.in_isr(p.leader) &&
              !controller_.unclean_allowed(t))
            return where + "leader " + std::to_string(p.leader.value()) + " was not in the ISR";
          if (p.leader != prev.leader && p.leader_epoch == prev.leader_epoch)
            return where + "leader changed without a new epoch";
          // A move ends by completing (replicas = the target, all of it in
          // sync) or by a cancel (back to the replicas it started from).
          if (prev.is_reassigning() && !p.is_reassigning()) {
            std::vector<NodeId> original;
            for (NodeId n : prev.replicas)
              if (std::find(prev.adding.begin(), prev.adding.end(), n) == prev.adding.end()) original.push_back(n);
            if (std::set<NodeId>(p.replicas.begin(), p.replicas.end()) !=
                std::set<NodeId>(original.begin(), original.end())) {
              ++completions_;
              for (NodeId n : p.replicas)
                if (!p.in_isr(n))
                  return where + "reassignment completed with replica " + std::to_string(n.value()) +
                         " out of the ISR";
            }
          }
        }
        for (NodeId n : p.isr)
          if (!p.is_replica(n)) return where + "ISR member " + std::to_string(n.value()) + " is not a replica";
        for (const auto* list : {&p.adding, &p.removing})
          for (NodeId n : *list)
            if (!p.is_replica(n)) return where + "reassigned node " + std::to_string(n.value()) + " is not a replica";
        auto [it, fresh] = leaders_.emplace(std::make_tuple(t.topic_id, int32_t(i), p.leader_epoch.value()),
                                            p.leader);
        if (!fresh && it->second != p.leader)
          return where + "two leaders in leader epoch " + std::to_string(p.leader_epoch.value());
        if (p.has_leader() && !img.is_active(p.leader)) return where + "led by a fenced broker";
        if (p.has_leader() && !p.in_isr(p.leader)) return where + "leader outside the ISR";
        if (p.isr.size() > 1)
          for (NodeId n : p.isr)
            if (!img.is_active(n)) return where + "fenced broker " + std::to_string(n.value()) + " in a shared ISR";
        last_[key] = p;
      }
    }
    return "";
  }

  // An ISR change the leader asked for was accepted: it is a fact before
  // whatever the same decision did next (a reassignment completing on it may
  // elect one of the members it just added).
  // Moves seen to complete (to a new replica set), so a run can show it
  // exercised them.
  int completions() const { return completions_; }

  void note_isr(const std::string& topic_id, int32_t partition, const std::vector<NodeId>& isr) {
    auto it = last_.find({topic_id, partition});
    if (it != last_.end()) it->second.isr = isr;
  }

 private:
  const Controller& controller_;
  std::map<std::pair<std::string, int32_t>, PartitionInfo> last_;
  std::map<std::tuple<std::string, int32_t, int32_t>, NodeId> leaders_;
  int completions_ = 0;
};

struct SimBroker {
  bool running = false;
  bool paused = false;   // SIGSTOP: running, but sends nothing
  bool registered = false;
  bool stopping = false;  // controlled shutdown asked
  int64_t broker_epoch = 0;
  int64_t applied = -1;   // how far its view of the log reaches
  std::string data_dir;
  int incarnations = 0;
};

class Simulation {
 public:
  Simulation(uint64_t seed, int brokers)
      : rng_(seed), controller_(ControllerConfig{}), sessions_(3000), checker_(controller_),
        brokers_(brokers) {
    for (int n = 0; n < brokers; ++n) brokers_[n].data_dir = "dir-" + std::to_string(n);
  }

  // Runs `steps` random steps; "" or the first failure with its step.
  std::string run(int steps) {
    for (int n = 0; n < static_cast<int>(brokers_.size()); ++n) start(n);
    for (step_ = 0; step_ < steps; ++step_) {
      random_step();
      if (std::string v = checker_.check(image_); !v.empty()) return at(v);
      if (step_ % 50 == 0)
        if (std::string v = replay_check(); !v.empty()) return at(v);
    }
    // Heal: everything runs and heartbeats until nothing changes; then every
    // partition must have a leader again.
    for (int round = 0; round < 4; ++round) {
      for (int n = 0; n < static_cast<int>(brokers_.size()); ++n) {
        brokers_[n].paused = false;
        brokers_[n].stopping = false;
        if (!brokers_[n].running) start(n);
        heartbeat(n, true);
      }
    }
    decide(controller_.elect_leaders(image_));
    if (std::string v = checker_.check(image_); !v.empty()) return at(v);
    for (const auto& [name, t] : image_.topics())
      for (size_t i = 0; i < t.partitions.size(); ++i)
        // (An empty ISR waits for an unclean election: its last member came
        // back with another disk.)
        if (!t.partitions[i].has_leader() && !t.partitions[i].isr.empty())
          return at(name + "/" + std::to_string(i) + " has no leader after healing: " +
                    partition_to_json(t.partitions[i]).dump() + " brokers " + image_.to_json()["brokers"].dump());
    return replay_check();
  }

  int completions() const { return checker_.completions(); }

 private:
  std::string at(const std::string& v) { return "step " + std::to_string(step_) + ": " + v; }

  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  void decide(const std::vector<Record>& records) {
    for (const Record& r : records) {
      Status s = image_.apply(image_.next_offset(), r);
      REQUIRE_MESSAGE(s.is_ok(), s.to_string());
      log_.push_back(r);
    }
  }

  void start(int n) {
    SimBroker& b = brokers_[n];
    b.running = true;
    b.paused = false;
    b.stopping = false;
    b.applied = -1;
    auto r = controller_.register_broker(
        image_, RegisterBroker{NodeId(n), std::to_string(++b.incarnations), b.data_dir, "h:" + std::to_string(n), ""});
    if (!r.is_ok()) {
      REQUIRE(r.status().code() == Code::kDuplicateBroker);
      b.running = false;
      return;
    }
    decide(*r);
    b.registered = true;
    b.broker_epoch = image_.next_offset() - 1;
    sessions_.touch(NodeId(n), b.broker_epoch, now_);
  }

  void heartbeat(int n, bool caught_up) {
    SimBroker& b = brokers_[n];
    if (!b.running || b.paused || !b.registered) return;
    // The broker's view catches up by a random amount (or fully).
    int64_t end = image_.next_offset() - 1;
    b.applied = caught_up ? end : std::min(end, b.applied + pick(8));
    auto r = controller_.heartbeat(image_, HeartbeatRequest{NodeId(n), b.broker_epoch, b.applied, b.stopping});
    if (!r.is_ok()) {
      // Its registration was replaced or it was fenced and re-registered: start over.
      REQUIRE(r.status().code() == Code::kFencedEpoch);
      b.registered = false;
      start(n);
      return;
    }
    decide(r->records);
    sessions_.touch(NodeId(n), b.broker_epoch, now_);
    if (r->shutdown_ready) {
      b.running = false;
      b.registered = false;
      sessions_.forget(NodeId(n));
    }
  }

  void alter_isr() {
    std::vector<std::pair<std::string, int32_t>> parts;
    for (const auto& [name, t] : image_.topics())
      for (int32_t i = 0; i < static_cast<int32_t>(t.partitions.size()); ++i) parts.emplace_back(name, i);
    if (parts.empty()) return;
    auto [name, i] = parts[pick(static_cast<int>(parts.size()))];
    PartitionInfo seen = *image_.partition(name, i);
    // Half the time the request comes from a view a few records old, or from
    // a broker that only believes it leads.
    if (!stale_views_.empty() && pick(2) == 0) {
      auto it = stale_views_.find({name, i});
      if (it != stale_views_.end()) seen = it->second;
    }
    stale_views_[{name, i}] = *image_.partition(name, i);
    NodeId sender = pick(4) == 0 ? NodeId(pick(static_cast<int>(brokers_.size()))) : seen.leader;
    if (sender == kNoLeader) return;
    std::vector<NodeId> isr = seen.isr;
    if (pick(2) == 0 && isr.size() > 1) {
      isr.erase(isr.begin() + pick(static_cast<int>(isr.size())));
    } else {
      NodeId add = seen.replicas[pick(static_cast<int>(seen.replicas.size()))];
      if (!seen.in_isr(add)) isr.push_back(add);
    }
    const BrokerInfo* b = image_.broker(sender);
    int64_t epoch = b ? b->broker_epoch : 0;
    AlterPartitionRequest req{name, i, sender, epoch, seen.leader_epoch, seen.partition_epoch, isr, {}};
    // Usually the additions' current registrations; sometimes a stale one,
    // which must be refused.
    for (NodeId n : isr)
      if (const BrokerInfo* m = image_.broker(n)) req.member_epochs[n.value()] = m->broker_epoch - (pick(8) == 0 ? 1 : 0);
    auto r = controller_.alter_partition(image_, req);
    const PartitionInfo& now = *image_.partition(name, i);
    if (r.is_ok()) {
      // Accepted only as a compare-and-set from the live, current leader.
      REQUIRE(now.partition_epoch == seen.partition_epoch);
      REQUIRE(now.leader == sender);
      REQUIRE(now.leader_epoch == seen.leader_epoch);
      REQUIRE(image_.is_active(sender));
      checker_.note_isr(image_.topic(name)->topic_id, i, isr);
      decide(*r);
    }
  }

  // An operator moves a random partition to 1-3 random nodes (sometimes one
  // that never registered), or cancels the move running.
  void reassign() {
    std::vector<std::pair<std::string, int32_t>> parts;
    for (const auto& [name, t] : image_.topics())
      for (int32_t i = 0; i < static_cast<int32_t>(t.partitions.size()); ++i) parts.emplace_back(name, i);
    if (parts.empty()) return;
    auto [name, i] = parts[pick(static_cast<int>(parts.size()))];
    std::optional<std::vector<NodeId>> target;
    if (pick(5) != 0) {
      target.emplace();
      int want = 1 + pick(3);
      int nodes = static_cast<int>(brokers_.size()) + (pick(10) == 0 ? 1 : 0);
      for (int k = 0; k < want; ++k) {
        NodeId n(pick(nodes));
        if (std::find(target->begin(), target->end(), n) == target->end()) target->push_back(n);
      }
    }
    auto r = controller_.alter_reassignment(image_, name, i, target);
    if (!r.is_ok()) {
      REQUIRE(r.status().code() == Code::kInvalidRequest);
      return;
    }
    decide(*r);
    const PartitionInfo& after = *image_.partition(name, i);
    if (target && !after.is_reassigning()) REQUIRE(after.replicas == *target);
    if (target && after.is_reassigning()) REQUIRE(after.target() == *target);
    if (!target) REQUIRE(!after.is_reassigning());
  }

  void random_step() {
    int n = pick(static_cast<int>(brokers_.size()));
    SimBroker& b = brokers_[n];
    switch (pick(18)) {
      case 0:
      case 1: {  // time passes; silent sessions expire
        now_ += pick(1500);
        for (auto [node, epoch] : sessions_.expired(now_)) {
          decide(controller_.fence(image_, node));
          sessions_.forget(node);
        }
        break;
      }
      case 2:
      case 3:
      case 4:
        heartbeat(n, pick(2) == 0);
        break;
      case 5:  // kill -9
        b.running = false;
        break;
      case 6:  // restart (same data dir)
        if (!b.running) start(n);
        break;
      case 7:  // SIGSTOP / SIGCONT
        if (b.running) b.paused = !b.paused;
        break;
      case 8: {  // a second process with this node id and another data dir
        std::string dir = "other-dir-" + std::to_string(step_);
        auto r = controller_.register_broker(image_, RegisterBroker{NodeId(n), "intruder", dir, "h:x", ""});
        const BrokerInfo* cur = image_.broker(NodeId(n));
        if (cur != nullptr && cur->state != BrokerState::kFenced) {
          REQUIRE(r.status().code() == Code::kDuplicateBroker);
        } else if (r.is_ok() && pick(4) == 0) {
          // A replacement with a new disk takes the id over.
          decide(*r);
          b.running = true;
          b.paused = false;
          b.registered = true;
          b.stopping = false;
          b.data_dir = dir;
          b.broker_epoch = image_.next_offset() - 1;
          b.applied = -1;
          sessions_.touch(NodeId(n), b.broker_epoch, now_);
        }
        break;
      }
      case 9: {  // create a topic
        static const char* kNames[] = {"a", "b", "c", "d"};
        std::string name = kNames[pick(4)];
        std::map<std::string, std::string> config;
        if (pick(8) == 0) config["unclean.leader.election.enable"] = "true";
        auto r = controller_.create_topic(
            image_, CreateTopicRequest{name, name + "-" + std::to_string(step_), 1 + pick(4), 1 + pick(3), config, {}});
        if (r.is_ok()) decide(*r);
        break;
      }
      case 10:
        if (pick(3) == 0 && !image_.topics().empty()) {
          auto r = controller_.delete_topic(image_, image_.topics().begin()->first);
          REQUIRE(r.is_ok());
          decide(*r);
        }
        break;
      case 11:
      case 12:
        alter_isr();
        break;
      case 13:  // controlled shutdown begins
        if (b.running && b.registered) b.stopping = true;
        break;
      case 14:
        decide(controller_.elect_leaders(image_));
        break;
      case 15:
        decide(controller_.allocate_producer_ids(image_, 1 + pick(100)));
        break;
      case 16:
      case 17:
        reassign();
        break;
    }
  }

  std::string replay_check() {
    MetadataImage replayed;
    for (size_t i = 0; i < log_.size(); ++i) {
      Status s = replayed.apply(static_cast<int64_t>(i), log_[i]);
      if (!s.is_ok()) return "replay: " + s.to_string();
    }
    if (replayed.to_json() != image_.to_json()) return "replay gives another image";
    auto restored = MetadataImage::from_json(image_.to_json());
    if (!restored.is_ok()) return "snapshot: " + restored.status().to_string();
    if (restored->to_json() != image_.to_json()) return "snapshot round trip gives another image";
    return "";
  }

  std::mt19937_64 rng_;
  Controller controller_;
  SessionTracker sessions_;
  InvariantChecker checker_;
  MetadataImage image_;
  std::vector<Record> log_;
  std::vector<SimBroker> brokers_;
  std::map<std::pair<std::string, int32_t>, PartitionInfo> stale_views_;
  int64_t now_ = 0;
  int step_ = 0;
};

TEST_SUITE("coord") {
  TEST_CASE("simulation: epochs, leaders and ISRs stay sound over many seeds") {
    uint64_t first = 1, count = 300;
    if (const char* s = std::getenv("KREEK_SIM_SEED")) first = std::strtoull(s, nullptr, 10), count = 1;
    if (const char* s = std::getenv("KREEK_SIM_SEEDS")) count = std::strtoull(s, nullptr, 10);
    int completions = 0;
    for (uint64_t seed = first; seed < first + count; ++seed) {
      Simulation sim(seed, 3 + static_cast<int>(seed % 3));
      std::string failure = sim.run(400);
      if (!failure.empty()) FAIL("seed " << seed << ": " << failure);
      completions += sim.completions();
    }
    // The runs moved replicas for real, not only started and cancelled moves.
    if (count >= 100) CHECK(completions >= 20);
    MESSAGE(completions << " reassignments completed");
  }

  TEST_CASE("the invariant checker sees an election from outside the ISR") {
    // Negative control: a hand-made change the Controller would never write.
    Controller controller;
    InvariantChecker checker(controller);
    MetadataImage img;
    auto apply = [&](const Record& r) { REQUIRE(img.apply(img.next_offset(), r).is_ok()); };
    for (int n = 0; n < 2; ++n) {
      apply(RegisterBroker{NodeId(n), "i", "d" + std::to_string(n), "h", ""});
      apply(UnfenceBroker{NodeId(n), img.next_offset() - 1});
    }
    apply(CreateTopic{"t", "id", {}, {PartitionAssignment{{NodeId(0), NodeId(1)}, NodeId(0), {NodeId(0)}}}});
    CHECK(checker.check(img) == "");
    apply(PartitionChange{"t", 0, {NodeId(0), NodeId(1)}, NodeId(1), LeaderEpoch(1), {NodeId(1)}, 1, {}, {}});
    CHECK(checker.check(img) == "t/0 leader 1 was not in the ISR");
  }

  TEST_CASE("the invariant checker sees a reassignment completed out of sync") {
    // Negative control: the move to [1] ends while node 1 is not in the ISR.
    Controller controller;
    InvariantChecker checker(controller);
    MetadataImage img;
    auto apply = [&](const Record& r) { REQUIRE(img.apply(img.next_offset(), r).is_ok()); };
    for (int n = 0; n < 2; ++n) {
      apply(RegisterBroker{NodeId(n), "i", "d" + std::to_string(n), "h", ""});
      apply(UnfenceBroker{NodeId(n), img.next_offset() - 1});
    }
    apply(CreateTopic{"t", "id", {}, {PartitionAssignment{{NodeId(0)}, NodeId(0), {NodeId(0)}}}});
    apply(PartitionChange{"t", 0, {NodeId(1), NodeId(0)}, NodeId(0), LeaderEpoch(0), {NodeId(0)}, 1,
                          {NodeId(1)}, {NodeId(0)}});
    CHECK(checker.check(img) == "");
    apply(PartitionChange{"t", 0, {NodeId(1), NodeId(0)}, NodeId(0), LeaderEpoch(0), {NodeId(0)}, 2, {}, {}});
    CHECK(checker.check(img) == "t/0 reassignment completed with replica 1 out of the ISR");
  }

  TEST_CASE("the invariant checker sees two leaders in one epoch") {
    Controller controller;
    InvariantChecker checker(controller);
    MetadataImage img;
    auto apply = [&](const Record& r) { REQUIRE(img.apply(img.next_offset(), r).is_ok()); };
    for (int n = 0; n < 2; ++n) {
      apply(RegisterBroker{NodeId(n), "i", "d" + std::to_string(n), "h", ""});
      apply(UnfenceBroker{NodeId(n), img.next_offset() - 1});
    }
    apply(CreateTopic{"t", "id", {}, {PartitionAssignment{{NodeId(0), NodeId(1)}, NodeId(0), {NodeId(0), NodeId(1)}}}});
    CHECK(checker.check(img) == "");
    // Leader moves to 1 (epoch 1), back to 0 (epoch 2) - fine; then a forged
    // record claims epoch 2 for node 1 through a fresh topic id collision.
    apply(PartitionChange{"t", 0, {NodeId(0), NodeId(1)}, NodeId(1), LeaderEpoch(1), {NodeId(0), NodeId(1)}, 1, {}, {}});
    CHECK(checker.check(img) == "");
    apply(DeleteTopic{"t", "id"});
    apply(CreateTopic{"t", "id", {}, {PartitionAssignment{{NodeId(0), NodeId(1)}, NodeId(0), {NodeId(0), NodeId(1)}}}});
    apply(PartitionChange{"t", 0, {NodeId(0), NodeId(1)}, NodeId(0), LeaderEpoch(1), {NodeId(0), NodeId(1)}, 1, {}, {}});
    CHECK(checker.check(img) != "");
  }
}

}  // namespace
}  // namespace kreek::coord
