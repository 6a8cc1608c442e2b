// BrokerContext: the state every request handler shares — config, the log
// manager, partition leadership, the flush scheduler, the fetch purgatory and
// the log cleaner.
// One per broker; lives on the loop thread (nothing here is thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "broker/reply.h"
#include "broker/broker.h"
#include "broker/metrics.h"
#include "broker/partition_state.h"
#include "net/net.h"
#include "coord/metadata_image.h"
#include "storage/log_manager.h"

namespace kreek::broker {

class FlushScheduler;
class FetchPurgatory;
class CompactionScheduler;
class CoordinatorLink;
class ReplicaManager;
class GroupCoordinator;

// A broker of the cluster as the metadata names it.
struct BrokerAddress {
  std::string addr;
  std::string rack;
  coord::BrokerState state = coord::BrokerState::kFenced;
};

// Bad-request warnings: at most kPerSecond lines a second, then one summary of
// how many were dropped, so a misbehaving client cannot flood the log.
class WarnLimiter {
 public:
  static constexpr int kPerSecond = 10;
  // At `level` (warn, or error for failures that may repeat per request,
  // such as appends on a full disk).
  void warn(std::string_view message, log::Level level = log::Level::kWarn);
  // As warn, but builds the message only when it will be logged: past the
  // limit, each of a flood of bad requests costs a counter, not a formatted
  // line that is thrown away.
  template <typename MakeMessage>
  void warn_lazily(MakeMessage&& make_message, log::Level level = log::Level::kWarn) {
    if (admit(level)) log::write(level, make_message());
  }
  // Logs the count of warnings dropped in a finished window (call periodically,
  // so the summary does not wait for the next bad request).
  void flush();

 private:
  // Whether a warning at `level` is logged now; one past the limit is counted.
  bool admit(log::Level level);

  int64_t window_start_ms_ = 0;
  int in_window_ = 0;
  int64_t suppressed_ = 0;
};

// One request as the handlers see it; views valid only during the call.
struct Request {
  std::string_view line;
  std::string_view op;
  std::string_view id_raw = "null";  // the "id" value's exact text, "null" if absent
  std::string_view peer;             // "127.0.0.1:53412" ("" in unit tests)
};

struct BrokerContext {
  // `logs` must outlive the context. `loop` may be null (unit tests): flushes
  // then run inline and fetches never park.
  BrokerContext(const BrokerConfig& config, storage::LogManager& logs, net::EventLoop* loop);
  ~BrokerContext();

  const BrokerConfig& config;
  storage::LogManager& logs;
  net::EventLoop* loop;
  std::string address;  // advertised in metadata: the bound listen address
  PartitionTable partitions;
  // Every broker of the cluster by node id, and the cluster's id (MetadataSync keeps them).
  std::map<int32_t, BrokerAddress> brokers;
  std::string cluster_id;
  // The control plane; null in unit tests without a coordinator.
  CoordinatorLink* coordinator = nullptr;
  // Auto-creations asked of the coordinator, with what waits for each.
  std::map<std::string, std::vector<std::function<void()>>, std::less<>> creating;
  // What waits for a topic's new logs, made on a worker thread, to be in
  // (see when_topic_settled).
  std::map<std::string, std::vector<std::function<void()>>, std::less<>> settling;
  // Counters and histograms (metrics.h); gauges are read at scrape time.
  // Before the schedulers: replies they hold point into it.
  Metrics metrics;
  std::unique_ptr<FlushScheduler> flusher;
  std::unique_ptr<FetchPurgatory> purgatory;
  std::unique_ptr<CompactionScheduler> compactor;
  std::unique_ptr<ReplicaManager> replicas;
  std::unique_ptr<GroupCoordinator> groups;  // consumer groups this broker coordinates
  WarnLimiter warnings;
  std::map<std::string, uint32_t, std::less<>> round_robin;  // keyless produce, per topic
  bool stopping = false;  // shutdown began: no new long polls park
  // False from start until the broker is registered and live in its cluster:
  // requests get UNAVAILABLE (retriable) rather than answers from metadata
  // it does not have yet.
  bool ready = true;

  // The topic, created with the broker's defaults if missing and `create` is
  // set (and the broker allows auto-creation): at once without a coordinator;
  // with one, creation is asked for and the answer is LEADER_NOT_AVAILABLE
  // (retriable) until it exists. kUnknownTopic otherwise.
  Result<const storage::TopicInfo*> find_topic(const std::string& name, bool create);
  // OK if this broker leads topic/p now; else NOT_LEADER naming the leader and
  // its address, or LEADER_NOT_AVAILABLE while the partition has none.
  Status leadership(const std::string& topic, PartitionId p);
  // Runs `then` once `name` has no new logs being made on a worker thread
  // (LogManager::is_busy): at once if it has none. MetadataSync calls
  // topic_settled when a topic's new logs are in.
  void when_topic_settled(const std::string& name, std::function<void()> then);
  void topic_settled(const std::string& name);
  // Everything that must forget a topic when it is deleted.
  void on_topic_deleted(const std::string& name);
  // Everything that holds one partition's log must let go of it before the
  // log is removed (this broker stopped being one of its replicas).
  void on_partition_removed(const std::string& topic, PartitionId p);
  // Answers `req` with an error line (or nothing if `silent`: acks=0) and logs
  // bad input (INVALID_REQUEST, CORRUPT_RECORD, MESSAGE_TOO_LARGE) at warn, rate-limited.
  // `close`: answer nothing and close the connection once earlier answers are sent.
  void reject(const Request& req, Reply& reply, const Status& status, bool silent = false,
              const nlohmann::ordered_json* extra = nullptr, bool close = false);
};

}  // namespace kreek::broker
