// Cluster: the client's view of the brokers. Bootstraps from the -b list (the
// first reachable broker wins; brokers learned from metadata serve when the
// list's are gone), caches topic metadata, keeps one connection per
// broker address and routes partition requests to the leader's address, so a
// multi-broker cluster needs no change here. Single-threaded; blocking I/O.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proto/message.h"

#include "base/status.h"
#include "client/broker_connection.h"
#include "client/metadata.h"

namespace kreek::client {

inline constexpr std::string_view kDefaultBroker = "127.0.0.1:9092";

struct ClientOptions {
  std::vector<std::string> brokers{std::string(kDefaultBroker)};
  int connect_timeout_ms = kDefaultConnectTimeoutMs;
  int request_timeout_ms = 30'000;  // for ordinary requests (not long polls)
  int max_retries = 5;              // NOT_LEADER / reconnects before giving up
  int retry_backoff_ms = 100;       // doubled per attempt...
  int retry_backoff_max_ms = 1000;  // ...up to this, so a broker that is back is seen within a second
};

// The backoff before retry number `attempt` (0-based): retry_backoff_ms doubled
// per attempt, capped at retry_backoff_max_ms.
int64_t backoff_ms(const ClientOptions& options, int attempt);

// "a:1,b:2" -> {"a:1","b:2"}; empty entries are skipped. Errors: kInvalidRequest.
Result<std::vector<std::string>> parse_broker_list(std::string_view list);

class Cluster {
 public:
  explicit Cluster(ClientOptions options) : options_(std::move(options)) {}

  const ClientOptions& options() const { return options_; }

  // Connects to the first reachable broker of the -b list, then of the brokers
  // learned from metadata. Errors: kUnavailable with the first broker's error
  // ("cannot connect to 127.0.0.1:9092: Connection refused").
  Status bootstrap();

  // Sends one request on the bootstrap connection and returns the response if
  // "ok" was true, else the Status of its "error". Reconnects once if the
  // connection broke before the request was written.
  Result<proto::Json> call(proto::Json request);
  // The same on a given connection.
  Result<proto::Json> call_on(BrokerConnection& conn, const proto::Json& request,
                                 int timeout_ms);

  // Metadata for one topic, cached; `refresh` forces a round trip. A topic the
  // broker reports as missing gives its error (UNKNOWN_TOPIC).
  Result<const TopicMeta*> topic(const std::string& name, bool auto_create, bool refresh = false);
  // Address of the leader of topic/partition, from the cache (refreshing once
  // if the partition has no known leader).
  Result<std::string> leader_address(const std::string& topic, int32_t partition);
  // The leader epoch the cached metadata has for topic/partition, -1 if none:
  // requests carry it so a broker whose view differs refuses them
  // (FENCED_EPOCH or UNKNOWN_LEADER_EPOCH, both retriable) rather than act
  // on a leadership one side no longer has.
  int32_t leader_epoch(const std::string& topic, int32_t partition);

  // The connection to `addr`, connecting on first use or after it broke.
  Result<BrokerConnection*> connection(const std::string& addr);
  // Forgets a connection (after an I/O error); the next connection() redials.
  void drop(const std::string& addr);

  // Sleeps for the backoff of retry number `attempt` (0-based); false if a
  // stop was requested meanwhile.
  bool backoff(int attempt) const;

  int64_t next_id() { return ++last_id_; }

  // Uses `conn` for its address, for data and metadata calls both (tests talk
  // to a fake broker over one socketpair this way).
  void adopt_connection(std::unique_ptr<BrokerConnection> conn);

 private:
  Result<BrokerConnection*> bootstrap_connection();

  ClientOptions options_;
  std::string bootstrap_addr_;
  // Metadata and admin calls have a connection of their own: a data
  // connection (producer, consumer) can then be dropped or redialled by its
  // user without pulling it from under a metadata call, and the other way round.
  std::unique_ptr<BrokerConnection> bootstrap_conn_;
  bool adopted_ = false;  // adopt_connection: the data connection is the bootstrap one
  std::map<std::string, std::unique_ptr<BrokerConnection>> conns_;
  std::map<int32_t, std::string> brokers_;
  std::map<std::string, TopicMeta> topics_;
  int64_t last_id_ = 0;
};

}  // namespace kreek::client
