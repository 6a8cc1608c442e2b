// Coordinator: the process side of the control plane — what kzk-lite runs and
// what a standalone kbroker embeds. It answers the coordinator protocol
// (kzk-lite(1)), decides with the Controller, makes each change durable in the
// MetadataLog before answering (group-committed on a worker thread), fences
// brokers whose sessions run out, elects leaders for leaderless partitions and
// serves the metadata log to following brokers as long polls.
// Lives on one EventLoop's thread; nothing here is thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.h"
#include "base/status.h"
#include "coord/controller.h"
#include "coord/metadata_image.h"
#include "coord/metadata_log.h"
#include "coord/session_tracker.h"
#include "net/net.h"
#include "proto/auth_token.h"

namespace kreek::coord {

struct CoordinatorConfig {
  std::string listen = "127.0.0.1:2181";  // HOST:PORT; port 0 picks a free one
  std::string data_dir = "kzk-data";
  // Why 3 s and 500 ms: a kreek broker has no garbage-collection pauses, so a
  // session can be much shorter than Kafka's 9+ s and still survive five lost
  // heartbeats; lib/coord/README.md says more.
  int64_t session_timeout_ms = 3000;
  int64_t heartbeat_interval_ms = 500;  // told to brokers when they register
  int64_t election_interval_ms = 1000;  // leaderless and preferred-leader elections
  int64_t snapshot_every = 1000;        // records between snapshots
  int64_t max_request_bytes = 8 << 20;
  bool unclean_leader_election = false;  // cluster default for unclean.leader.election.enable
  log::Level log_level = log::Level::kInfo;
  // Shared secret (--auth-token-file or $KREEK_AUTH_TOKEN_FILE; a standalone
  // kbroker passes its own): every connection must open with a hello carrying it.
  std::string auth_token_file;
  std::string auth_token;  // "" = no authentication; run() reads the file
  int umask = 077;         // --umask (run() only: an embedded coordinator keeps kbroker's)
  // --tls-cert/--tls-key: the listener speaks TLS; run() builds the context
  // (null: plain TCP, as for the loopback coordinator inside a standalone kbroker).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::shared_ptr<const net::TlsContext> tls;
};

// Exit codes of run() (sysexits(3)), as kbroker's.
inline constexpr int kCoordExitOk = 0;
inline constexpr int kCoordExitUsage = 64;
inline constexpr int kCoordExitUnavailable = 69;
inline constexpr int kCoordExitIoError = 74;
inline constexpr int kCoordExitConfig = 78;  // unusable --auth-token-file

class Coordinator {
 public:
  using Respond = std::function<void(std::string line)>;

  // Opens (and recovers) the metadata log in config.data_dir. `loop` must
  // outlive the coordinator, and the coordinator must be destroyed only after
  // the loop has run its queued work (after loop.run() returns).
  static Result<std::unique_ptr<Coordinator>> open(const CoordinatorConfig& config, net::EventLoop& loop);
  ~Coordinator();

  // Binds config.listen and starts the session and election timers.
  Status start();
  std::string address() const;  // the bound address ("127.0.0.1:40123")

  // Stops accepting and timers, answers parked polls; `done` runs once no
  // write is in flight. Connections stay until the caller closes the loop.
  void stop(std::function<void()> done);
  net::Server* server() { return server_.get(); }

  // One request line; `respond` gets exactly one response line (maybe later:
  // writes answer once durable, long polls when there is news or at their deadline).
  void handle(std::string_view line, std::string_view peer, Respond respond);

  // The image every decision so far leads to (some may not be durable yet),
  // and the durable one brokers are served.
  const MetadataImage& pending_image() const { return pending_; }
  const MetadataImage& committed_image() const { return committed_; }

 private:
  struct Waiter;
  struct Request;
  // A change's answer: called with the offset of its last record once durable.
  struct Waiting {
    int64_t last_offset;
    std::function<void(Status, int64_t)> done;
  };

  Coordinator(const CoordinatorConfig& config, net::EventLoop& loop);

  // Applies `records` to the pending image and queues them; `done` runs once
  // they (and everything queued before them) are durable, with the offset of
  // the last record (or of the log's end for an empty change).
  void propose(std::vector<Record> records, std::function<void(Status, int64_t)> done);
  void write_next();
  void on_written(std::vector<Record> records, int64_t first, std::vector<Waiting> callbacks,
                  Status status);
  void expire_sessions();
  void elect();

  // The protocol's ops (coordinator_ops.cpp).
  void op_register(Request& r);
  void op_heartbeat(Request& r);
  void op_metadata_fetch(Request& r);
  void op_create_topic(Request& r);
  void op_delete_topic(Request& r);
  void op_alter_topic(Request& r);
  void op_create_partitions(Request& r);
  void op_alter_partition(Request& r);
  void op_alter_reassignment(Request& r);
  void op_init_producer_id(Request& r);
  void op_describe_cluster(Request& r);
  // Proposes `decided` and answers with `fields` plus "offset" once durable.
  void answer_after_commit(Request& r, Result<std::vector<Record>> decided, nlohmann::ordered_json fields);
  std::string fetch_answer(const std::string& id_raw, int64_t from) const;
  void wake_waiters();

  CoordinatorConfig config_;
  net::EventLoop& loop_;
  Controller controller_;
  SessionTracker sessions_;
  std::unique_ptr<MetadataLog> log_;
  MetadataImage pending_, committed_;
  // Committed records kept to serve followers one by one: (offset, JSON text).
  std::deque<std::pair<int64_t, std::string>> recent_;
  std::vector<Record> queued_;
  std::vector<Waiting> queued_callbacks_;
  bool writing_ = false;
  Status broken_;  // a failed write: the log can take nothing more until restart
  std::list<std::shared_ptr<Waiter>> waiters_;
  std::function<void()> on_idle_;
  bool stopping_ = false;
  std::unique_ptr<net::Server> server_;
  proto::AuthGate gate_;
  proto::JsonScan scan_;  // the broker's strict scan first, so both servers refuse the same input
  int64_t refused_logged_ms_ = 0;  // refusals are logged at most once a second
  std::unique_ptr<net::Timer> session_timer_, election_timer_;
  int64_t session_check_ms_ = 0;       // the session timer's period
  int64_t last_session_check_ms_ = 0;  // when it last ran (a late run means a stall)
};

// kzk-lite's life: open, listen (logging "listening on HOST:PORT"), serve
// until SIGINT/SIGTERM, stop cleanly. Returns a process exit code.
int run(const CoordinatorConfig& config);

}  // namespace kreek::coord
