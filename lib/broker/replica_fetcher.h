// ReplicaFetcher: a follower's copy loop from one leader broker. For every
// partition this broker follows on that leader it first finds where its log
// and the leader's agree (offsets_for_epoch, truncation by leader epoch), then
// fetches from its log end with the leader epoch it believes in and appends
// the leader's batch bytes verbatim, taking the high watermark from each
// answer. One connection, one request in flight; fetches long-poll on the
// leader, so an idle follower costs one parked request.
// Loop thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/strong_id.h"
#include "net/net.h"
#include "net/rpc_client.h"
#include "storage/leader_epoch_cache.h"

namespace kreek::broker {

struct BrokerContext;

class ReplicaFetcher {
 public:
  using Key = std::pair<std::string, int32_t>;

  ReplicaFetcher(BrokerContext& ctx, NodeId leader, std::string address);
  ~ReplicaFetcher();

  // The leader's advertised address (it changes when the leader restarts on
  // another port): reconnects if it differs.
  void set_address(const std::string& address);
  // Follows exactly these partitions, each at the leader epoch given; a
  // partition new here or at a new epoch is truncated by epoch first.
  void assign(const std::vector<std::pair<Key, LeaderEpoch>>& parts);
  void forget_topic(const std::string& topic);
  void stop();

 private:
  enum class Phase { kTruncate, kFetch, kWait };
  struct Part {
    LeaderEpoch epoch;
    Phase phase = Phase::kTruncate;
    Phase retry_phase = Phase::kTruncate;  // kWait: the phase to go back to
    int64_t retry_at_ms = 0;               // kWait: until then
  };
  struct PartAnswer {
    Key key;
    int64_t bytes = 0;
    nlohmann::json header;
  };

  void connect();
  void on_closed(Status why);
  // Sends the next request if none is in flight: truncation first, then a fetch.
  void pump();
  void send_offsets_for_epoch(const std::vector<Key>& keys);
  void send_fetch();
  void on_epochs(const std::string& line);
  int64_t on_fetch_header(const std::string& line);
  void on_fetch_done();
  void apply_part(const PartAnswer& a, std::string_view bytes);
  void retry_later(const Key& key, Phase next, int64_t delay_ms);

  BrokerContext& ctx_;
  NodeId leader_;
  std::string address_;
  std::unique_ptr<net::RpcClient> rpc_;
  std::unique_ptr<net::Timer> timer_;
  std::map<Key, Part> parts_;
  // The fetch answer being received.
  std::vector<PartAnswer> answer_;
  std::string bytes_;
  bool in_flight_ = false;
  bool stopped_ = false;
  int failures_ = 0;             // connection failures in a row
  int64_t reconnect_at_ms_ = 0;  // monotonic
  int64_t refused_logged_ms_ = INT64_MIN / 2;  // a refused auth token: logged every 10 s
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// One part of a leader's offsets_for_epoch answer: where its epoch ends; or
// nothing when "epoch" or "end_offset" is missing or no integer of its range.
// The follower then asks again: read as "no common epoch", such a part would
// throw the replica's whole log away.
std::optional<storage::EpochEnd> decode_epoch_end(const nlohmann::json& part);

}  // namespace kreek::broker
