// The broker module's face: a standalone kreek broker's configuration and its
// entry point. run() opens the data directory, listens, serves the JSON-line
// protocol (SPEC section 1) until SIGINT/SIGTERM and returns a process exit code.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/log.h"
#include "proto/wire.h"
#include "storage/descriptor_cache.h"
#include "storage/log_config.h"

namespace kreek::net {
class TlsContext;
}  // namespace kreek::net

namespace kreek::broker {

struct BrokerConfig {
  std::string listen = "127.0.0.1:9092";  // HOST:PORT; port 0 picks a free one
  std::string data_dir = "kreek-data";
  int32_t node_id = 0;
  // The cluster's coordinators (kzk-lite), HOST:PORT each; empty runs one
  // inside this process on a loopback port (standalone).
  std::vector<std::string> coordinators;
  std::string advertise;  // HOST:PORT given to clients and other brokers; "" = the bound address
  std::string metrics_listen;  // HOST:PORT of the HTTP metrics endpoint; "" = none
  std::string rack;       // for placement: replicas of a partition on different racks
  bool auto_create = true;       // produce (and metadata with auto_create) create missing topics
  int32_t default_partitions = 1;
  int64_t max_request_bytes = proto::kDefaultMaxRequestBytes;
  int64_t max_connections = 10'000;  // client connections at once; more get UNAVAILABLE and a close
  int64_t idle_timeout_ms = 600'000;  // close a silent connection with nothing pending (0 = never)
  int64_t line_timeout_ms = 30'000;   // close one whose request line does not end (0 = never)
  // Response bytes held in memory for all clients together; over it, clients
  // holding some are not read until it drains (--max-queued-bytes; 0 = no limit).
  int64_t max_queued_bytes = 256ll << 20;
  int64_t max_queued_bytes_per_connection = 64ll << 20;  // stop reading such a client beyond this
  // Request bytes read but not yet handled, for all clients together; over
  // it the client holding the most is closed (--max-request-buffer-bytes).
  int64_t max_request_buffer_bytes = 256ll << 20;
  int64_t send_timeout_ms = 60'000;  // close a client that takes none of its answers this long (0 = never)
  int64_t max_fetch_parts = 10'000;  // partitions one fetch may name
  int64_t max_parked_fetches_per_connection = 16;  // long polls one connection may have waiting
  storage::LogConfig log_defaults;  // topic defaults (--flush-messages, --retention-ms, ...)
  int64_t retention_check_interval_ms = 5000;  // capped at kMaxRetentionCheckIntervalMs
  // Descriptors closed segments keep open, across every partition (--max-open-segments).
  int64_t max_open_segments = storage::kDefaultMaxOpenSegments;
  int64_t compaction_check_interval_ms = 15'000;  // log cleaner (Kafka's log.cleaner.backoff.ms)
  int64_t flush_check_interval_ms = 100;
  int64_t checkpoint_interval_ms = 1000;  // recovery-point checkpoint at most this often
  int64_t shutdown_timeout_ms = 10'000;   // how long shutdown waits for clients to take their responses
  log::Level log_level = log::Level::kInfo;  // -v debug, -q warn
  // Consumer groups: the internal offsets topic as created, and the coordinator's limits.
  int32_t offsets_topic_partitions = 12;
  int32_t offsets_topic_replication_factor = 3;  // capped at the live brokers when created
  int64_t group_min_session_timeout_ms = 1000;
  int64_t group_max_session_timeout_ms = 300'000;
  int64_t group_initial_rebalance_delay_ms = 0;
  // Shared secret (--auth-token-file, or $KREEK_AUTH_TOKEN_FILE): clients must
  // open with a hello carrying it; also sent to kzk-lite and to other brokers.
  std::string auth_token_file;
  std::string auth_token;  // read from the file by run(); "" = no authentication
  // --read-only-token-file: a second token whose connections may only read
  // (read_only_access.h); needs the first.
  std::string read_only_token_file;
  std::string read_only_token;  // read by run(); "" = none
  int umask = 077;         // --umask: files and directories the broker creates are private
  // TLS: --tls-cert and --tls-key make the client listener speak TLS; --tls-ca
  // makes the links to kzk-lite and to leaders speak it, trusting that CA.
  // run() builds the contexts from the files (null: plain TCP).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
  std::shared_ptr<const net::TlsContext> tls_server;
  std::shared_ptr<const net::TlsContext> tls_client;
};

inline constexpr int64_t kMaxRetentionCheckIntervalMs = 30'000;

// Process exit codes run() returns (sysexits(3)).
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 64;        // bad --listen address
inline constexpr int kExitUnavailable = 69;  // cannot bind
inline constexpr int kExitSoftware = 70;     // internal error
inline constexpr int kExitCantCreate = 73;   // cannot create the data directory
inline constexpr int kExitIoError = 74;      // cannot lock/open/recover/flush the data directory
inline constexpr int kExitNoPerm = 77;       // the coordinator refused this broker's auth token
inline constexpr int kExitConfig = 78;       // the cluster refused this broker (node id in use, another cluster)

// Runs a broker until SIGINT/SIGTERM. Logs its own diagnostics (base/log.h):
// "kreek 0.1.0 node 0 data dir ...", "listening on HOST:PORT" once bound and
// registered with the coordinator (ready to serve),
// "shutting down", "stopped". A second SIGINT exits 130 at once.
int run(const BrokerConfig& config);

}  // namespace kreek::broker
