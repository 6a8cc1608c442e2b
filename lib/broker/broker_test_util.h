// Test harness for the broker's request handling without sockets: a LogManager
// in a fresh temp dir, a BrokerContext with no event loop (flushes run inline,
// fetches never park) and a RequestRouter driven line by line.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "broker/broker_context.h"
#include "broker/request_router.h"
#include "storage/log_manager.h"

namespace kreek::broker::testing {

class Harness {
 public:
  // `loop` null: flushes run inline and fetches never park.
  explicit Harness(BrokerConfig config = {}, net::EventLoop* loop = nullptr)
      : config_(std::move(config)) {
    saved_level_ = log::level();
    log::set_level(log::Level::kError);  // keep test output to failures
    char tmpl[] = "/tmp/kreek-broker-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    config_.data_dir = dir_;
    auto logs = storage::LogManager::open(dir_, config_.log_defaults, [](std::string_view) {});
    REQUIRE_MESSAGE(logs.is_ok(), logs.status().to_string());
    logs_ = std::move(*logs);
    ctx_ = std::make_unique<BrokerContext>(config_, *logs_, loop);
    router_ = std::make_unique<RequestRouter>(*ctx_);
  }
  ~Harness() {
    router_.reset();
    ctx_.reset();
    logs_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    log::set_level(saved_level_);
  }

  // The whole response (head line plus any fetch bytes), or nullopt if the
  // request was answered with no line at all (acks=0).
  // Sends `line`; the answer (if any yet) lands in the returned sink.
  // `peer` names the connection, as the server would ("" by default).
  std::shared_ptr<ReplySink> send(std::string_view line, std::string_view peer = {}) {
    auto sink = std::make_shared<ReplySink>();
    router_->on_line(line, Reply(sink), peer);
    return sink;
  }

  std::optional<std::string> call(std::string_view line) {
    auto sink = std::make_shared<ReplySink>();
    router_->on_line(line, Reply(sink));
    REQUIRE(sink->replies.size() == 1);
    if (!sink->replies[0]) return std::nullopt;
    std::string out = sink->replies[0]->head;
    for (const auto& r : sink->replies[0]->ranges) {
      std::string buf(static_cast<size_t>(r.len), '\0');
      REQUIRE(::pread(r.fd, buf.data(), buf.size(), r.pos) == static_cast<ssize_t>(r.len));
      out += buf;
    }
    return out;
  }
  // The response's first line as JSON.
  nlohmann::json json(std::string_view line) {
    auto r = call(line);
    REQUIRE(r.has_value());
    std::string head = r->substr(0, r->find('\n'));
    return nlohmann::json::parse(head);
  }
  std::string oversize(int64_t seen) {
    auto sink = std::make_shared<ReplySink>();
    router_->on_oversize(seen, Reply(sink));
    REQUIRE(sink->replies.size() == 1);
    return sink->replies[0]->head;
  }

  storage::LogManager& logs() { return *logs_; }
  BrokerContext& ctx() { return *ctx_; }
  RequestRouter& router() { return *router_; }

 private:
  log::Level saved_level_;
  BrokerConfig config_;
  std::string dir_;
  std::unique_ptr<storage::LogManager> logs_;
  std::unique_ptr<BrokerContext> ctx_;
  std::unique_ptr<RequestRouter> router_;
};

inline std::string error_code(const nlohmann::json& j) {
  if (!j.contains("error")) return "";
  return j["error"].value("code", "");
}

}  // namespace kreek::broker::testing
