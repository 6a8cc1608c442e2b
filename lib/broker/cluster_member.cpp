// A broker's membership of its cluster; see cluster_member.h.
#include "broker/cluster_member.h"

#include "base/log.h"
#include "base/random_id.h"
#include "broker/broker_context.h"
#include "broker/fetch_purgatory.h"
#include "broker/group_coordinator.h"
#include "broker/replica_manager.h"
#include "storage/data_dir.h"
#include "storage/log_manager.h"

namespace kreek::broker {

ClusterMember::ClusterMember(const BrokerConfig& config, BrokerContext& ctx, net::EventLoop& loop, Events events)
    : config_(config), ctx_(ctx), loop_(loop), events_(std::move(events)) {}

ClusterMember::~ClusterMember() {
  ctx_.coordinator = nullptr;
}

Status ClusterMember::start() {
  std::vector<std::string> coordinators = config_.coordinators;
  if (coordinators.empty()) {
    // Standalone: the same coordinator kzk-lite runs, inside this process, on
    // a loopback port, with its log beside the topics.
    coord::CoordinatorConfig cc;
    cc.listen = "127.0.0.1:0";
    cc.data_dir = ctx_.logs.data_dir() + "/" + std::string(storage::kCoordinatorDirName);
    cc.log_level = config_.log_level;
    cc.auth_token = config_.auth_token;
    KREEK_ASSIGN_OR_RETURN(embedded_, coord::Coordinator::open(cc, loop_));
    KREEK_RETURN_IF_ERROR(embedded_->start());
    coordinators = {embedded_->address()};
  }
  ctx_.partitions.set_cluster_mode();
  ctx_.ready = false;
  CoordinatorLinkConfig lc{coordinators, NodeId(config_.node_id), ctx_.address, config_.rack,
                           ctx_.logs.data_dir_id(), random_id(), 5000, config_.auth_token, nullptr};
  CoordinatorLink::Events ev;
  ev.on_registered = [this](const std::string& cluster_id) { on_registered(cluster_id); };
  ev.on_metadata = [this](const coord::MetadataImage& image) { on_metadata(image); };
  ev.on_refused = [this](Status s) { events_.on_refused(s); };
  ev.on_shutdown_ready = [this] {
    if (left_) std::exchange(left_, nullptr)();
  };
  // The embedded coordinator listens on loopback in plain TCP; kzk-lite
  // instances named by --coordinators are dialed with TLS under --tls-ca.
  if (!is_standalone()) lc.tls = config_.tls_client;
  link_ = std::make_unique<CoordinatorLink>(loop_, std::move(lc), std::move(ev));
  ctx_.coordinator = link_.get();
  sync_ = std::make_unique<MetadataSync>(
      ctx_, [this](const std::string& name) { register_local_topic(name); },
      [this] { on_metadata(link_->image()); });
  link_->start();
  return Status::ok();
}

void ClusterMember::on_registered(const std::string& cluster_id) {
  const std::string& dir = ctx_.logs.data_dir();
  auto local = storage::read_cluster_membership(dir);
  if (!local.is_ok()) return events_.on_refused(local.status());
  storage::ClusterMembership joined{cluster_id, is_standalone()};
  if (local->cluster_id.empty()) {
    if (Status s = storage::write_cluster_membership(dir, joined); !s.is_ok()) return events_.on_refused(s);
  } else if (local->cluster_id != cluster_id) {
    if (!local->standalone) {
      return events_.on_refused(Status(
          Code::kInvalidRequest, "data dir " + dir + " belongs to cluster " + local->cluster_id +
                                      ", but the coordinator runs cluster " + cluster_id +
                                      "; point this broker at its own cluster or at an empty data dir"));
    }
    // A standalone broker's data joining a cluster: its topic ids were its
    // embedded coordinator's, so every topic is offered to the cluster afresh.
    log::info("joining cluster " + cluster_id + ": the topics of this data dir are registered with it");
    for (const storage::TopicInfo* t : ctx_.logs.topics())
      if (Status s = ctx_.logs.set_topic_id(t->name, ""); !s.is_ok()) return events_.on_refused(s);
    if (Status s = storage::write_cluster_membership(dir, joined); !s.is_ok()) return events_.on_refused(s);
  }
  joined_ = true;
  on_metadata(link_->image());
}

void ClusterMember::on_metadata(const coord::MetadataImage& image) {
  // Only an image that has this broker's registration is trusted to say
  // which topics exist: an older one would make every local topic look deleted.
  const coord::BrokerInfo* self = image.broker(NodeId(config_.node_id));
  if (!joined_ || self == nullptr || self->broker_epoch != link_->broker_epoch()) return;
  sync_->apply(image);
  ctx_.replicas->on_metadata();
  ctx_.groups->on_metadata();
  if (ready_ && !leaving_ && self->state != last_state_) {
    // Operators see the cluster's view of this broker change in its own log.
    if (self->state == coord::BrokerState::kFenced)
      log::warn("fenced by the coordinator (its session ran out): leading nothing until it rejoins");
    else if (self->state == coord::BrokerState::kLive && last_state_ == coord::BrokerState::kFenced)
      log::info("live again in the cluster");
  }
  last_state_ = self->state;
  // Parked fetches answer now, so clients of partitions that moved learn it.
  ctx_.purgatory->complete_all();
  if (!ready_ && self->state == coord::BrokerState::kLive) {
    ready_ = true;
    ctx_.ready = true;
    if (events_.on_ready) events_.on_ready();
  }
}

void ClusterMember::register_local_topic(const std::string& name) {
  const storage::TopicInfo* t = ctx_.logs.topic(name);
  if (t == nullptr) return;
  proto::Json replicas = proto::Json::array();
  for (int32_t p = 0; p < t->partitions; ++p) replicas.push_back({config_.node_id});
  proto::Json req = {{"op", "create_topic"},        {"topic", name}, {"partitions", t->partitions},
                     {"replication_factor", 1}, {"replicas", replicas}, {"config", t->overrides}};
  link_->call(std::move(req), [name](Result<proto::Json> r) {
    if (r.is_ok()) {
      log::info("local topic \"" + name + "\" registered with the cluster");
    } else {
      log::warn("register local topic \"" + name + "\": " + r.status().message() +
                "; its data is kept but not served");
    }
  });
}

void ClusterMember::leave(int64_t timeout_ms, std::function<void()> done) {
  leaving_ = true;
  if (!link_ || !link_->is_registered() || !link_->coordinator_reachable()) return done();
  left_ = std::move(done);
  leave_timer_ = loop_.make_timer();
  leave_timer_->start(timeout_ms, 0, [this] {
    log::warn("the coordinator did not take over this broker's leaderships in time; stopping anyway");
    if (left_) std::exchange(left_, nullptr)();
  });
  link_->begin_shutdown();
}

void ClusterMember::stop(std::function<void()> done) {
  if (leave_timer_) leave_timer_->stop();
  if (link_) link_->stop();
  ctx_.coordinator = nullptr;
  if (!embedded_) return done();
  embedded_->stop(std::move(done));
}

}  // namespace kreek::broker
