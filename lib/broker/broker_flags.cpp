// kbroker flag definitions; see broker_flags.h.
#include "broker/broker_flags.h"

#include <cstdlib>
#include <limits>

#include "coord/coordinator_flags.h"
#include "coord/tls_flags.h"
#include "proto/wire.h"
#include "storage/log_config.h"

namespace kreek::broker {

namespace {

constexpr int64_t kMaxI64 = std::numeric_limits<int64_t>::max();

// A limit where Kafka's -1 means "never": stored as storage::kNever.
void add_limit(CLI::App& app, const std::string& name, int64_t& field, int64_t min,
               const std::string& help) {
  app.add_option_function<int64_t>(
         name,
         [&field, name, min](int64_t v) {
           if (v < -1 || (v != -1 && v < min))
             throw CLI::ValidationError(name, "must be -1 (never) or at least " + std::to_string(min));
           field = v < 0 ? storage::kNever : v;
         },
         help)
      ->type_name("N");
}

}  // namespace

void add_broker_flags(CLI::App& app, BrokerConfig& c) {
  app.set_version_flag("--version", std::string("kbroker (kreek) ") + KREEK_VERSION,
                       "print the version and exit");
  app.add_option("--listen", c.listen, "address to listen on (port 0 picks a free port)")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  app.add_option("--data-dir", c.data_dir, "directory holding topics and partition logs")
      ->type_name("DIR")
      ->capture_default_str();
  app.add_option("--node-id", c.node_id, "this broker's node id")
      ->type_name("N")
      ->check(CLI::Range(0, std::numeric_limits<int32_t>::max()))
      ->capture_default_str();
  app.add_option_function<std::string>(
         "--coordinator",
         [&c](const std::string& list) {
           c.coordinators.clear();
           size_t start = 0;
           while (start <= list.size()) {
             size_t comma = list.find(',', start);
             std::string one = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
             if (!one.empty()) c.coordinators.push_back(one);
             if (comma == std::string::npos) break;
             start = comma + 1;
           }
           if (c.coordinators.empty()) throw CLI::ValidationError("--coordinator", "needs HOST:PORT");
         },
         "join the cluster of these kzk-lite coordinators (default: run one in this process, standalone)")
      ->type_name("HOST:PORT[,...]");
  app.add_option("--advertise", c.advertise,
                 "address clients and other brokers use to reach this one (default: the listen address)")
      ->type_name("HOST:PORT");
  app.add_option("--metrics-listen", c.metrics_listen,
                 "serve Prometheus metrics at /metrics and readiness at /health over HTTP here")
      ->type_name("HOST:PORT");
  app.add_option("--rack", c.rack, "rack (or zone) of this broker: replicas are spread over racks")
      ->type_name("NAME");
  app.add_flag_function(
      "--no-auto-create", [&c](int64_t) { c.auto_create = false; },
      "do not create missing topics on produce or metadata requests");
  app.add_option("--default-partitions", c.default_partitions,
                 "partitions of topics created without a count")
      ->type_name("N")
      ->check(CLI::Range(1, proto::kMaxPartitions))
      ->capture_default_str();
  app.add_option("--max-request-bytes", c.max_request_bytes,
                 "longest request line accepted (longer: MESSAGE_TOO_LARGE)")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1024}, int64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--max-connections", c.max_connections,
                 "open connections at most (more: UNAVAILABLE, then closed)")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  app.add_option("--idle-timeout-ms", c.idle_timeout_ms,
                 "close a connection silent this long with nothing pending (0 = never)")
      ->type_name("MS")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--line-timeout-ms", c.line_timeout_ms,
                 "close a connection whose request line has not ended this long (0 = never)")
      ->type_name("MS")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--max-queued-bytes", c.max_queued_bytes,
                 "response bytes held for all clients together; over it, clients holding some are not read (0 = no limit)")
      ->type_name("N")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--max-queued-bytes-per-connection", c.max_queued_bytes_per_connection,
                 "stop reading a client whose unsent responses exceed this")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1024}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--max-request-buffer-bytes", c.max_request_buffer_bytes,
                 "unhandled request bytes held for all clients together; over it, the client holding the most "
                 "is closed (0 = no limit; else at least --max-request-bytes)")
      ->type_name("N")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))
      ->capture_default_str();
  // One request line of --max-request-bytes must always fit.
  app.callback([&c] {
    if (c.max_request_buffer_bytes > 0 && c.max_request_buffer_bytes < c.max_request_bytes)
      throw CLI::ValidationError("--max-request-buffer-bytes",
                                 "must be 0 or at least --max-request-bytes (" + std::to_string(c.max_request_bytes) + ")");
  });
  app.add_option("--send-timeout-ms", c.send_timeout_ms,
                 "close a client that has taken none of its responses this long (0 = never)")
      ->type_name("MS")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--max-fetch-parts", c.max_fetch_parts, "partitions one fetch may name")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--max-parked-fetches-per-connection", c.max_parked_fetches_per_connection,
                 "long-poll fetches one connection may have waiting (more are answered at once)")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  add_limit(app, "--flush-messages", c.log_defaults.flush_messages, 1,
            "fsync after this many records (1 = every append; default -1 = leave it to the OS)");
  add_limit(app, "--flush-ms", c.log_defaults.flush_ms, 0,
            "fsync data at most this old, in ms (default -1 = leave it to the OS)");
  add_limit(app, "--retention-ms", c.log_defaults.retention_ms, 0,
            "delete closed segments older than this, in ms (-1 = keep; default 7 days)");
  add_limit(app, "--retention-bytes", c.log_defaults.retention_bytes, 0,
            "cap each partition at about this many bytes (-1 = no cap, the default)");
  // The topic config's segment.bytes range: index entries hold u32 positions.
  app.add_option("--segment-bytes", c.log_defaults.segment_bytes, "roll a segment at this size (1024 to 2147483647)")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1024}, int64_t{std::numeric_limits<int32_t>::max()}))
      ->capture_default_str();
  app.add_option("--segment-ms", c.log_defaults.segment_ms, "roll a segment this old, in ms")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1}, kMaxI64))
      ->capture_default_str();
  app.add_option("--retention-check-interval-ms", c.retention_check_interval_ms,
                 "how often retention and segment.ms are enforced, in ms (1 to 30000)")
      ->type_name("N")
      // Refused rather than clamped: a silently shorter interval surprises.
      ->check(CLI::Range(int64_t{1}, kMaxRetentionCheckIntervalMs))
      ->capture_default_str();
  app.add_option("--max-open-segments", c.max_open_segments,
                 "descriptors closed segments keep open, across all partitions (reopened on demand)")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--compaction-check-interval-ms", c.compaction_check_interval_ms,
                 "how often compacted topics are checked for cleaning, in ms")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1}, kMaxI64))
      ->capture_default_str();
  app.add_option("--offsets-topic-partitions", c.offsets_topic_partitions,
                 "partitions of the internal __consumer_offsets topic, when a broker creates it")
      ->type_name("N")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--offsets-topic-replication-factor", c.offsets_topic_replication_factor,
                 "replicas of __consumer_offsets (capped at the live brokers when it is created)")
      ->type_name("N")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--group-min-session-timeout-ms", c.group_min_session_timeout_ms,
                 "shortest session timeout a group member may ask for, in ms")
      ->type_name("MS")
      ->check(CLI::Range(int64_t{1}, int64_t{std::numeric_limits<int32_t>::max()}))
      ->capture_default_str();
  app.add_option("--group-max-session-timeout-ms", c.group_max_session_timeout_ms,
                 "longest session timeout a group member may ask for, in ms")
      ->type_name("MS")
      ->check(CLI::Range(int64_t{1}, int64_t{std::numeric_limits<int32_t>::max()}))
      ->capture_default_str();
  app.add_option("--group-initial-rebalance-delay-ms", c.group_initial_rebalance_delay_ms,
                 "how long an empty group's first join phase waits for more members, in ms")
      ->type_name("MS")
      ->check(CLI::Range(int64_t{0}, int64_t{std::numeric_limits<int32_t>::max()}))
      ->capture_default_str();
  app.add_option("--auth-token-file", c.auth_token_file,
                 "require clients to send the token in FILE (mode 0600) in a hello first; also sent "
                 "to the coordinators and other brokers (default: $KREEK_AUTH_TOKEN_FILE)")
      ->type_name("FILE");
  app.add_option("--read-only-token-file", c.read_only_token_file,
                 "also admit clients sending the token in FILE (mode 0600), but only to read: "
                 "fetch, offsets, metadata, describe and group views")
      ->type_name("FILE");
  coord::add_tls_server_flags(app, c.tls_cert_file, c.tls_key_file);
  app.add_option("--tls-ca", c.tls_ca_file,
                 "dial the --coordinator and the partition leaders with TLS, trusting the CA "
                 "certificates in FILE (PEM)")
      ->type_name("FILE");
  coord::add_umask_flag(app, c.umask, "umask for the files and directories the broker creates (default 077: private)");
  auto* verbose = app.add_flag_function(
      "-v,--verbose", [&c](int64_t) { c.log_level = log::Level::kDebug; }, "log debug lines too");
  auto* quiet = app.add_flag_function(
      "-q,--quiet", [&c](int64_t) { c.log_level = log::Level::kWarn; },
      "log only warnings and errors");
  verbose->excludes(quiet);
}

}  // namespace kreek::broker
