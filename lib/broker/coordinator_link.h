// CoordinatorLink: a broker's side of the control plane. It registers the
// broker with the coordinator (kzk-lite, or the one a standalone broker
// embeds), heartbeats, follows the metadata log into a local MetadataImage
// (the same apply the coordinator runs), and forwards admin changes. Two
// connections: one parked on the metadata long poll, one for everything else,
// so a heartbeat never waits behind a poll. On a broken link it retries with
// backoff across the coordinator list, and it never gives up: the broker keeps
// serving what it leads while the coordinator is away.
// Lives on the broker's loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "coord/metadata_image.h"
#include "net/net.h"
#include "net/rpc_client.h"
#include "proto/message.h"

namespace kreek::broker {

struct CoordinatorLinkConfig {
  std::vector<std::string> coordinators;  // HOST:PORT each
  NodeId node;
  std::string addr;         // advertised
  std::string rack;
  std::string data_dir_id;  // from the data directory's marker
  std::string incarnation;  // random per start
  int64_t poll_wait_ms = 5000;  // metadata long poll
  std::string auth_token;       // sent in a hello first on every connection ("" = none)
  std::shared_ptr<const net::TlsContext> tls;  // set: every connection speaks TLS (--tls-ca)
};

class CoordinatorLink {
 public:
  struct Events {
    // The image moved on (records applied or a snapshot taken); called after
    // every batch the poll brings.
    std::function<void(const coord::MetadataImage& image)> on_metadata;
    // The coordinator refused this broker for good (DUPLICATE_BROKER).
    std::function<void(Status)> on_refused;
    // The first registration succeeded; the coordinator's cluster id.
    std::function<void(const std::string& cluster_id)> on_registered;
    // A controlled shutdown finished: nothing left to hand over.
    std::function<void()> on_shutdown_ready;
  };

  CoordinatorLink(net::EventLoop& loop, CoordinatorLinkConfig config, Events events);
  ~CoordinatorLink();

  void start();
  // Stops everything: no more calls, callbacks or reconnects.
  void stop();

  const coord::MetadataImage& image() const { return image_; }
  bool is_registered() const { return broker_epoch_ >= 0; }
  int64_t broker_epoch() const { return broker_epoch_; }
  NodeId node() const { return config_.node; }
  // True while the last heartbeat was answered (the coordinator is reachable).
  bool coordinator_reachable() const { return reachable_; }

  // Sends an admin request (a JSON object; "id" is added) and, once the
  // coordinator answered and this broker's image has applied the change,
  // calls `done` with the answer. Errors: kUnavailable while the coordinator
  // cannot be reached, or the coordinator's own error.
  void call(proto::Json request, std::function<void(Result<proto::Json>)> done);
  // Runs `cb` once the image has applied `offset` (at once if it has).
  void when_applied(int64_t offset, std::function<void()> cb);

  // Starts a controlled shutdown: heartbeats ask to be let go until the
  // coordinator has moved this broker's leaderships (on_shutdown_ready).
  void begin_shutdown();

 private:
  void connect();
  void on_control_closed(Status why);
  void schedule_reconnect();
  void do_register();
  void heartbeat();
  void poll();
  void on_poll_answer(Result<std::string_view> answer);
  Status apply_poll(const nlohmann::json& answer);
  void run_applied_waiters();
  const std::string& current() const { return config_.coordinators[index_ % config_.coordinators.size()]; }

  net::EventLoop& loop_;
  CoordinatorLinkConfig config_;
  Events events_;
  std::unique_ptr<net::RpcClient> control_;  // register, heartbeat, admin
  std::unique_ptr<net::RpcClient> poller_;   // metadata_fetch long polls
  std::unique_ptr<net::Timer> heartbeat_timer_, reconnect_timer_, poll_retry_timer_;
  coord::MetadataImage image_;
  int64_t broker_epoch_ = -1;
  int64_t heartbeat_interval_ms_ = 500;
  size_t index_ = 0;
  int attempts_ = 0;
  bool registering_ = false;
  bool heartbeat_in_flight_ = false;
  bool reachable_ = false;
  bool want_shutdown_ = false;
  bool stopped_ = false;
  std::multimap<int64_t, std::function<void()>> applied_waiters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace kreek::broker
