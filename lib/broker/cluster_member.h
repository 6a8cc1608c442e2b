// ClusterMember: everything that makes a broker part of a cluster, owned by
// the broker process. It starts the embedded coordinator when no --coordinator
// is given (standalone), links to the coordinator, checks that the data
// directory belongs to the cluster it joins, keeps the local state in line
// with the metadata (MetadataSync), says when the broker is ready to serve,
// and runs the controlled part of a shutdown.
// Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "broker/broker.h"
#include "broker/coordinator_link.h"
#include "broker/metadata_sync.h"
#include "coord/coordinator.h"
#include "net/net.h"

namespace kreek::broker {

struct BrokerContext;

class ClusterMember {
 public:
  struct Events {
    // The broker is registered, live and in step with the metadata: it may
    // announce itself ("listening on ...").
    std::function<void()> on_ready;
    // The cluster refused this broker for good; the process should stop with
    // kExitConfig.
    std::function<void(Status)> on_refused;
  };

  // `ctx` (with its address set to the advertised one) and `loop` must outlive this.
  ClusterMember(const BrokerConfig& config, BrokerContext& ctx, net::EventLoop& loop, Events events);
  ~ClusterMember();

  // Starts the embedded coordinator if standalone, then the link. kIoError or
  // kUnavailable if the embedded coordinator cannot start.
  Status start();
  // Hands this broker's leaderships to others (controlled shutdown), then
  // calls `done`; gives up waiting after `timeout_ms`.
  void leave(int64_t timeout_ms, std::function<void()> done);
  // Stops the link, then the embedded coordinator; `done` once its writes are durable.
  void stop(std::function<void()> done);

  bool is_standalone() const { return embedded_ != nullptr; }

 private:
  void on_registered(const std::string& cluster_id);
  void on_metadata(const coord::MetadataImage& image);
  void register_local_topic(const std::string& name);

  const BrokerConfig& config_;
  BrokerContext& ctx_;
  net::EventLoop& loop_;
  Events events_;
  std::unique_ptr<coord::Coordinator> embedded_;
  std::unique_ptr<CoordinatorLink> link_;
  std::unique_ptr<MetadataSync> sync_;
  std::unique_ptr<net::Timer> leave_timer_;
  std::function<void()> left_;
  bool joined_ = false;  // the data dir's cluster id matches (MetadataSync may act)
  bool ready_ = false;
  bool leaving_ = false;  // a controlled shutdown began: being fenced is expected
  coord::BrokerState last_state_ = coord::BrokerState::kFenced;  // as the metadata last said
};

}  // namespace kreek::broker
