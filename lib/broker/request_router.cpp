// Line -> envelope -> op handler; see request_router.h.
#include "broker/request_router.h"

#include <memory>
#include <string>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "broker/admin_ops.h"
#include "broker/cluster_admin.h"
#include "broker/describe_sliced.h"
#include "broker/fetch.h"
#include "broker/group_ops.h"
#include "broker/metrics_export.h"
#include "broker/produce.h"
#include "broker/producer_id.h"
#include "broker/read_only_access.h"
#include "group/offset_records.h"
#include "proto/json_tree.h"
#include "proto/message.h"
#include "proto/request_fields.h"

namespace kreek::broker {

namespace {

struct OpEntry {
  std::string_view name;
  OpHandler handler;
};

constexpr OpEntry kOps[] = {
    {"hello", handle_hello},
    {"describe_cluster", handle_describe_cluster},
    {"list_offsets", handle_list_offsets},
    {"offsets_for_epoch", handle_offsets_for_epoch},
    {"metrics", handle_metrics},
};

// Ops whose answer may come later (they go through the coordinator).
struct AsyncOpEntry {
  std::string_view name;
  AsyncOpHandler handler;
};
constexpr AsyncOpEntry kAsyncOps[] = {
    {"metadata", admin_metadata},
    {"create_topic", admin_create_topic},
    {"delete_topic", admin_delete_topic},
    {"alter_topic", admin_alter_topic},
    {"init_producer_id", admin_init_producer_id},
    {"alter_reassignment", admin_alter_reassignment},
    {"create_partitions", admin_create_partitions},
    {"describe_topic", admin_describe_topic},  // big topics: a slice per loop turn
};

}  // namespace

RequestRouter::RequestRouter(BrokerContext& ctx) : ctx_(ctx) {
  // Every op served gets its own series; produce and fetch first (the
  // lookup scans in this order).
  ctx_.metrics.add_op("produce");
  ctx_.metrics.add_op("fetch");
  for (const OpEntry& e : kOps) ctx_.metrics.add_op(e.name);
  for (const AsyncOpEntry& e : kAsyncOps) ctx_.metrics.add_op(e.name);
}

void RequestRouter::on_line(std::string_view line, Reply reply, std::string_view peer, uint64_t conn) {
  if (conn != 0) {
    if (auto it = held_.find(conn); it != held_.end()) {
      it->second.push_back(Held{std::string(line), std::move(reply), std::string(peer)});
      return;
    }
  }
  if (dispatch(line, std::move(reply), peer, conn) && conn != 0) held_[conn];
  release_scan_memory();
}

// The scan's token list keeps its size for the next request; after a huge
// one (millions of tokens) that would pin the memory for good, so it goes.
// malloc_trim then hands the freed pages back: the allocator keeps freed heap
// memory for reuse, and a huge request's leftovers would stay resident.
void RequestRouter::release_scan_memory() {
  if (scan_.tokens().capacity() <= kKeepScanTokens) return;
  scan_ = proto::JsonScan();
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

void RequestRouter::resume(uint64_t conn) {
  auto it = held_.find(conn);
  if (it == held_.end()) return;
  while (!it->second.empty()) {
    Held next = std::move(it->second.front());
    it->second.pop_front();
    if (dispatch(next.line, std::move(next.reply), next.peer, conn)) return;  // waits again
  }
  held_.erase(it);
}

bool RequestRouter::dispatch(std::string_view line, Reply reply, std::string_view peer, uint64_t conn,
                             bool may_wait) {
  const int64_t start_us = steady_us();
  Request req;
  req.line = line;
  req.peer = peer;
  proto::RequestEnvelope env;
  Status s = proto::scan_request(line, scan_, env);
  if (may_wait) {  // not again for a produce that waited for its topic's creation
    OpStats& stats = ctx_.metrics.op(env.op);
    ++stats.requests;
    reply.track(&stats, start_us);
  }
  req.id_raw = env.id_raw.empty() ? std::string_view("null") : env.id_raw;
  if (!s.is_ok()) return ctx_.reject(req, reply, s), false;

  // hello and metrics answer from local state: an operator can see into a
  // broker that is still joining its cluster.
  if (!ctx_.ready && env.op != "hello" && env.op != "metrics") {
    req.op = env.op;
    ctx_.reject(req, reply, Status(Code::kUnavailable, "the broker is starting; try again"),
                /*silent=*/false);
    return false;
  }
  const bool read_only = conn != 0 && is_read_only_ && is_read_only_(conn);
  if (env.op == "produce") {
    req.op = env.op;
    if (read_only) return ctx_.reject(req, reply, check_read_only_op(env.op)), false;
    // A produce to a topic that does not exist yet waits (holding the
    // connection's later requests) while the coordinator creates it, then runs.
    std::string topic;
    if (may_wait && ctx_.coordinator != nullptr && ctx_.config.auto_create &&
        proto::scan_topic(scan_, 0, topic).is_ok() && ctx_.logs.topic(topic) == nullptr &&
        topic != group::kOffsetsTopic) {
      auto held = std::make_shared<Held>(Held{std::string(line), std::move(reply), std::string(peer)});
      // 0: waiting; 1: done before request_topic_creation returned (the
      // produce runs here); 2: this call returned, the callback runs it.
      auto state = std::make_shared<int>(0);
      request_topic_creation(ctx_, topic, [this, held, conn, state] {
        if (*state == 0) {
          *state = 1;
          return;
        }
        dispatch(held->line, std::move(held->reply), held->peer, conn, /*may_wait=*/false);
        resume(conn);
      });
      if (*state == 1) return dispatch(held->line, std::move(held->reply), held->peer, conn, /*may_wait=*/false);
      *state = 2;
      return true;
    }
    handle_produce(ctx_, req, scan_, std::move(reply));
    return false;
  }

  OpHandler handler = nullptr;
  for (const OpEntry& e : kOps)
    if (e.name == env.op) handler = e.handler;
  AsyncOpHandler async_handler = nullptr;
  for (const AsyncOpEntry& e : kAsyncOps)
    if (e.name == env.op) async_handler = e.handler;
  GroupOpHandler group_handler = group_op(env.op);
  if (handler == nullptr && async_handler == nullptr && group_handler == nullptr && env.op != "fetch") {
    std::string shown = env.op.size() > 64 ? env.op.substr(0, 64) + "..." : env.op;
    if (!proto::is_valid_utf8(shown)) shown = log::sample(env.op, 64);
    ctx_.reject(req, reply, invalid_request("unknown op \"" + shown + "\""));
    return false;
  }
  req.op = env.op;  // a known op: warnings may name it
  if (read_only) {
    if (Status refusal = check_read_only_op(env.op); !refusal.is_ok()) return ctx_.reject(req, reply, refusal), false;
  }

  // Built from the scan's tokens: the line is not lexed a second time.
  nlohmann::ordered_json body;
  try {
    Result<nlohmann::ordered_json> tree = proto::to_json(scan_);
    if (!tree.is_ok()) return ctx_.reject(req, reply, tree.status()), false;
    body = std::move(*tree);
  } catch (const std::exception& e) {
    ctx_.reject(req, reply, internal_error(std::string("build request: ") + e.what()));  // bad_alloc
    return false;
  }

  if (read_only) {
    if (Status refusal = check_read_only_body(env.op, body); !refusal.is_ok())
      return ctx_.reject(req, reply, refusal), false;
  }
  if (env.op == "fetch") {
    handle_fetch(ctx_, req, body, std::move(reply));
    return false;
  }

  if (auto topic = body.find("topic"); topic != body.end() && topic->is_string()) {
    // The offsets topic is the group coordinators' own.
    if (Status internal = check_internal_topic_use(env.op, topic->get_ref<const std::string&>()); !internal.is_ok())
      return ctx_.reject(req, reply, internal), false;
  }

  if (async_handler != nullptr || group_handler != nullptr) {
    // The request's views die with this call: the answer keeps copies.
    struct Owned {
      std::string line, op, id_raw, peer;
    };
    auto owned = std::make_shared<Owned>(
        Owned{std::string(log::sample(line, 256)), env.op, std::string(req.id_raw), std::string(peer)});
    // `finished` tells apart an answer given at once from one given later.
    auto finished = std::make_shared<bool>(false);
    // An answer given during the call leaves the held requests to the
    // resume() loop that may be running this one (a nested resume would
    // pull them from under it).
    auto calling = std::make_shared<bool>(true);
    auto done = [this, owned, reply, conn, finished, calling](Result<nlohmann::ordered_json> r) mutable {
      if (*finished) return;
      *finished = true;
      Request again{owned->line, owned->op, owned->id_raw, owned->peer};
      if (!r.is_ok()) {
        ctx_.reject(again, reply, r.status());
      } else {
        reply.send(proto::ok_line(again.id_raw, *r));
      }
      if (!*calling && conn != 0 && held_.count(conn) != 0) resume(conn);
    };
    try {
      if (group_handler != nullptr)
        group_handler(ctx_, req, body, done);
      else
        async_handler(ctx_, body, done);
    } catch (const std::exception& e) {
      done(internal_error(std::string(env.op) + ": " + e.what()));
    }
    *calling = false;
    return !*finished;
  }

  Result<nlohmann::ordered_json> r = [&]() -> Result<nlohmann::ordered_json> {
    try {
      return handler(ctx_, body);
    } catch (const std::exception& e) {
      // Limitation: a handler bug surfaces as INTERNAL rather than taking the broker down.
      return internal_error(std::string(env.op) + ": " + e.what());
    }
  }();
  if (!r.is_ok()) {
    ctx_.reject(req, reply, r.status());
  } else {
    reply.send(proto::ok_line(req.id_raw, *r));
  }
  return false;
}

void RequestRouter::on_oversize(int64_t bytes_seen, Reply reply, std::string_view peer) {
  Request req;
  req.peer = peer;
  ++ctx_.metrics.op("").requests;
  ctx_.reject(req, reply,
              Status(Code::kMessageTooLarge,
                     "request line exceeds " + std::to_string(ctx_.config.max_request_bytes) +
                         " bytes"));
}

}  // namespace kreek::broker
