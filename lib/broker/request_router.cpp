// Line -> envelope -> op handler; see request_router.h.
#include "broker/request_router.h"

#include <string>

#include "broker/admin_ops.h"
#include "broker/fetch.h"
#include "broker/produce.h"
#include "proto/message.h"

namespace kreek::broker {

namespace {

struct OpEntry {
  std::string_view name;
  OpHandler handler;
};

constexpr OpEntry kOps[] = {
    {"hello", handle_hello},
    {"metadata", handle_metadata},
    {"create_topic", handle_create_topic},
    {"delete_topic", handle_delete_topic},
    {"alter_topic", handle_alter_topic},
    {"describe_topic", handle_describe_topic},
    {"list_offsets", handle_list_offsets},
};

}  // namespace

void RequestRouter::on_line(std::string_view line, Reply reply, std::string_view peer) {
  Request req;
  req.line = line;
  req.peer = peer;
  proto::RequestEnvelope env;
  Status s = proto::scan_request(line, scan_, env);
  req.id_raw = env.id_raw.empty() ? std::string_view("null") : env.id_raw;
  if (!s.is_ok()) return ctx_.reject(req, reply, s);

  if (env.op == "produce") {
    req.op = env.op;
    return handle_produce(ctx_, req, scan_, std::move(reply));
  }

  OpHandler handler = nullptr;
  for (const OpEntry& e : kOps)
    if (e.name == env.op) handler = e.handler;
  if (handler == nullptr && env.op != "fetch") {
    std::string shown = env.op.size() > 64 ? env.op.substr(0, 64) + "..." : env.op;
    if (!proto::is_valid_utf8(shown)) shown = log::sample(env.op, 64);
    return ctx_.reject(req, reply, invalid_request("unknown op \"" + shown + "\""));
  }
  req.op = env.op;  // a known op: warnings may name it

  nlohmann::ordered_json body;
  try {
    body = nlohmann::ordered_json::parse(line);
  } catch (const std::exception& e) {
    // The scan accepted the line, so this is a disagreement between parsers
    // (e.g. a number nlohmann cannot hold); still the client's input.
    return ctx_.reject(req, reply, invalid_request(std::string("invalid JSON: ") + e.what()));
  }

  if (env.op == "fetch") return handle_fetch(ctx_, req, body, std::move(reply));

  Result<nlohmann::ordered_json> r = [&]() -> Result<nlohmann::ordered_json> {
    try {
      return handler(ctx_, body);
    } catch (const std::exception& e) {
      // Limitation: a handler bug surfaces as INTERNAL rather than taking the broker down.
      return internal_error(std::string(env.op) + ": " + e.what());
    }
  }();
  if (!r.is_ok()) return ctx_.reject(req, reply, r.status());
  reply.send(proto::ok_line(req.id_raw, *r));
}

void RequestRouter::on_oversize(int64_t bytes_seen, Reply reply, std::string_view peer) {
  Request req;
  req.peer = peer;
  ctx_.reject(req, reply,
              Status(Code::kMessageTooLarge,
                     "request line exceeds " + std::to_string(ctx_.config.max_request_bytes) +
                         " bytes"));
}

}  // namespace kreek::broker
