// Cluster: bootstrap, request/response calls, metadata cache and leader routing.
#include "client/cluster.h"

#include <poll.h>

#include <algorithm>

#include "base/clock.h"
#include "client/interrupt.h"
#include "client/reply.h"

namespace kreek::client {

Result<std::vector<std::string>> parse_broker_list(std::string_view list) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      KREEK_RETURN_IF_ERROR(parse_host_port(item).status());
      out.emplace_back(item);
    }
    pos = comma + 1;
  }
  if (out.empty()) return invalid_request("empty broker list");
  return out;
}

Status Cluster::bootstrap() {
  Status first;
  // The -b list first, then the brokers metadata named: once the client has
  // seen the cluster, losing every broker it was given is no reason to stop.
  std::vector<std::string> candidates = options_.brokers;
  for (const auto& [node, addr] : brokers_)
    if (std::find(candidates.begin(), candidates.end(), addr) == candidates.end()) candidates.push_back(addr);
  for (const auto& addr : candidates) {
    auto c = BrokerConnection::connect(addr, options_.connect_timeout_ms);
    if (c.is_ok()) {
      bootstrap_addr_ = addr;
      bootstrap_conn_ = std::move(c).value();
      return Status::ok();
    }
    if (first.is_ok()) first = c.status();
    if (stop_requested()) break;
  }
  if (first.is_ok()) first = Status(Code::kUnavailable, "no brokers given");
  return first;
}

Result<BrokerConnection*> Cluster::bootstrap_connection() {
  if (bootstrap_conn_ && !bootstrap_conn_->is_broken()) return bootstrap_conn_.get();
  if (adopted_) {  // one fake broker's socketpair serves both roles
    auto it = conns_.find(bootstrap_addr_);
    if (it != conns_.end()) return it->second.get();
  }
  bootstrap_conn_.reset();
  KREEK_RETURN_IF_ERROR(bootstrap());
  return bootstrap_conn_.get();
}

Result<proto::Json> Cluster::call_on(BrokerConnection& conn, const proto::Json& request,
                                        int timeout_ms) {
  std::string line = request.dump();
  line += '\n';
  KREEK_RETURN_IF_ERROR(conn.write_all(line));
  KREEK_ASSIGN_OR_RETURN(std::string_view reply, conn.read_line(timeout_ms));
  KREEK_ASSIGN_OR_RETURN(proto::Json j, parse_reply(conn, reply));
  KREEK_RETURN_IF_ERROR(proto::response_status(j));
  return j;
}

Result<proto::Json> Cluster::call(proto::Json fields) {
  // "op" then "id" first, as kreek-protocol(7) writes requests.
  proto::Json request = {{"op", fields.value("op", std::string())}, {"id", next_id()}};
  for (auto it = fields.begin(); it != fields.end(); ++it)
    if (it.key() != "op") request[it.key()] = it.value();
  for (int attempt = 0;; ++attempt) {
    KREEK_ASSIGN_OR_RETURN(BrokerConnection * conn, bootstrap_connection());
    auto r = call_on(*conn, request, options_.request_timeout_ms);
    // A connection that broke (broker restarted) is redialled once; requests
    // here are idempotent metadata/admin calls or the caller copes with TOPIC_EXISTS.
    // A peer that does not speak the protocol is not asked twice.
    if (!r.is_ok() && conn->is_broken() && attempt == 0 && r.status().code() != Code::kProtocol) {
      bootstrap_conn_.reset();
      continue;
    }
    return r;
  }
}

Result<const TopicMeta*> Cluster::topic(const std::string& name, bool auto_create, bool refresh) {
  if (!refresh) {
    auto it = topics_.find(name);
    if (it != topics_.end()) return &it->second;
  }
  proto::Json req = {{"op", "metadata"}, {"topics", {name}}, {"auto_create", auto_create}};
  KREEK_ASSIGN_OR_RETURN(proto::Json resp, call(std::move(req)));
  KREEK_ASSIGN_OR_RETURN(ClusterMeta meta, parse_metadata(resp));
  for (auto& [node, addr] : meta.brokers) brokers_[node] = addr;
  for (auto& t : meta.topics) {
    if (t.topic != name) continue;
    if (!t.error.is_ok()) {
      topics_.erase(name);
      return t.error;
    }
    if (t.partitions.empty())
      return Status(Code::kUnknownTopic, "topic \"" + name + "\" has no partitions");
    auto& slot = topics_[name];
    slot = std::move(t);
    return &slot;
  }
  return Status(Code::kProtocol, "metadata response does not mention topic \"" + name + "\"");
}

Result<std::string> Cluster::leader_address(const std::string& topic_name, int32_t partition) {
  for (int pass = 0; pass < 2; ++pass) {
    KREEK_ASSIGN_OR_RETURN(const TopicMeta* t, topic(topic_name, false, pass == 1));
    if (partition < 0 || partition >= t->partition_count())
      return Status(Code::kUnknownPartition, "topic \"" + topic_name + "\" has no partition " +
                                                 std::to_string(partition));
    int32_t leader = t->partitions[static_cast<size_t>(partition)].leader.value();
    auto it = brokers_.find(leader);
    if (leader >= 0 && it != brokers_.end()) return it->second;
  }
  return Status(Code::kLeaderNotAvailable, topic_name + "/" + std::to_string(partition) + " has no leader now");
}

int32_t Cluster::leader_epoch(const std::string& topic_name, int32_t partition) {
  auto t = topic(topic_name, false, false);
  if (!t.is_ok() || partition < 0 || partition >= (*t)->partition_count()) return -1;
  const PartitionMeta& p = (*t)->partitions[static_cast<size_t>(partition)];
  return p.leader.value() < 0 ? -1 : p.epoch.value();
}

Result<BrokerConnection*> Cluster::connection(const std::string& addr) {
  auto it = conns_.find(addr);
  if (it != conns_.end() && !it->second->is_broken()) return it->second.get();
  KREEK_ASSIGN_OR_RETURN(auto conn, BrokerConnection::connect(addr, options_.connect_timeout_ms));
  auto& slot = conns_[addr];
  slot = std::move(conn);
  return slot.get();
}

void Cluster::drop(const std::string& addr) { conns_.erase(addr); }

void Cluster::adopt_connection(std::unique_ptr<BrokerConnection> conn) {
  bootstrap_addr_ = conn->address();
  adopted_ = true;
  conns_[bootstrap_addr_] = std::move(conn);
}

int64_t backoff_ms(const ClientOptions& options, int attempt) {
  int64_t ms = static_cast<int64_t>(options.retry_backoff_ms) << std::clamp(attempt, 0, 20);
  return std::min<int64_t>(ms, std::max(options.retry_backoff_ms, options.retry_backoff_max_ms));
}

bool Cluster::backoff(int attempt) const {
  int64_t ms = backoff_ms(options_, attempt);
  int64_t deadline = clock::monotonic_ms() + ms;
  for (;;) {
    if (stop_requested()) return false;
    int64_t left = deadline - clock::monotonic_ms();
    if (left <= 0) return true;
    ::poll(nullptr, 0, static_cast<int>(left));
  }
}

}  // namespace kreek::client
