// RpcClient: id stamping, in-order matching of response lines to calls, raw
// payloads after a header line, and one timer for the earliest deadline.
// Every user callback may destroy the client, so each one is followed by a
// check of `alive` before a member is touched again.
#include "net/rpc_client.h"

#include <algorithm>

#include "base/clock.h"

namespace kreek::net {
namespace {

size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  return i;
}

// `s[i]` is the opening quote; returns the index after the closing one.
size_t skip_string(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '"') return i + 1;
  }
  return std::string_view::npos;
}

// Returns the index after the JSON value starting at `i` (which is not
// validated beyond its extent), or npos.
size_t skip_value(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      char c = s[i];
      if (c == '"') {
        i = skip_string(s, i);
        if (i == std::string_view::npos) return i;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if ((c == '}' || c == ']') && --depth == 0) return i + 1;
      ++i;
    }
    return std::string_view::npos;
  }
  size_t start = i;
  while (i < s.size() && std::string_view(",}] \t\r\n").find(s[i]) == std::string_view::npos) ++i;
  return i == start ? std::string_view::npos : i;
}

// The raw text of the top-level "id" member of a JSON object line, if it has
// one. Just enough JSON to step over other members: lib/net depends on base only.
std::optional<std::string_view> response_id(std::string_view s) {
  size_t i = skip_ws(s, 0);
  if (i >= s.size() || s[i] != '{') return std::nullopt;
  ++i;
  for (;;) {
    i = skip_ws(s, i);
    if (i >= s.size() || s[i] != '"') return std::nullopt;
    size_t key_end = skip_string(s, i);
    if (key_end == std::string_view::npos) return std::nullopt;
    std::string_view key = s.substr(i + 1, key_end - i - 2);
    i = skip_ws(s, key_end);
    if (i >= s.size() || s[i] != ':') return std::nullopt;
    size_t value = skip_ws(s, i + 1);
    size_t value_end = skip_value(s, value);
    if (value_end == std::string_view::npos) return std::nullopt;
    if (key == "id") return s.substr(value, value_end - value);
    i = skip_ws(s, value_end);
    if (i >= s.size() || s[i] != ',') return std::nullopt;
    ++i;
  }
}

}  // namespace

RpcClient::RpcClient(EventLoop& loop, const std::string& host_port, RpcOptions options,
                     std::function<void(Status)> on_closed)
    : options_(std::move(options)), on_closed_(std::move(on_closed)), timer_(loop.make_timer()) {
  LinkHandler h;
  h.on_line = [this](std::string_view line) { on_line(line); };
  h.on_raw = [this](std::string_view chunk, bool last) { on_raw(chunk, last); };
  h.on_closed = [this](Status why) { on_link_closed(std::move(why)); };
  link_ = loop.connect(host_port, options_.link, std::move(h));
}

RpcClient::~RpcClient() {
  *alive_ = false;
  link_.reset();  // no link callback runs after this
}

Status RpcClient::call(std::string request, Callback done, int64_t timeout_ms) {
  Call c;
  c.done = std::move(done);
  return submit(std::move(request), std::move(c), timeout_ms);
}

Status RpcClient::call_raw(std::string request, RawCall handlers, int64_t timeout_ms) {
  Call c;
  c.raw = std::move(handlers);
  c.is_raw = true;
  return submit(std::move(request), std::move(c), timeout_ms);
}

Status RpcClient::submit(std::string request, Call c, int64_t timeout_ms) {
  if (!request.empty() && request.back() == '\n') request.pop_back();
  if (request.find('\n') != std::string::npos) {
    return invalid_request("call " + peer() + ": a request must be one line");
  }
  if (!is_open()) return Status(Code::kUnavailable, "call " + peer() + ": link is closed");
  c.id = next_id_;
  if (options_.assign_ids) {
    size_t brace = skip_ws(request, 0);
    if (brace >= request.size() || request[brace] != '{') {
      return invalid_request("call " + peer() + ": a request must be a JSON object");
    }
    size_t next = skip_ws(request, brace + 1);
    bool empty = next < request.size() && request[next] == '}';
    request.insert(brace + 1, "\"id\":" + std::to_string(c.id) + (empty ? "" : ","));
  }
  request.push_back('\n');
  if (!link_->send(std::move(request))) {
    // The link refused it (output queue full) and is closing; its on_closed
    // fails whatever was already pending.
    return Status(Code::kUnavailable, "call " + peer() + ": link output queue is full");
  }
  ++next_id_;
  if (timeout_ms < 0) timeout_ms = options_.call_timeout_ms;
  if (timeout_ms > 0) {
    c.deadline_ms = clock::monotonic_ms() + timeout_ms;
    deadlines_.insert(c.deadline_ms);
  }
  pending_.push_back(std::move(c));
  rearm();
  return Status::ok();
}

void RpcClient::close() {
  if (closed_) return;
  closed_ = true;
  link_->close();  // on_link_closed fails the pending calls, from the loop
}

void RpcClient::on_line(std::string_view line) {
  if (closed_) return;
  if (pending_.empty()) {
    fail_all(Status(Code::kProtocol, "read " + peer() + ": a response line with no call waiting for it"), 0,
             {});
    return;
  }
  if (options_.assign_ids) {
    uint64_t want = pending_.front().id;
    auto id = response_id(line);
    if (id && *id != "null" && *id != std::to_string(want)) {
      Status bad(Code::kProtocol, "call " + peer() + ": response id " + std::string(id->substr(0, 32)) +
                                      " does not match request id " + std::to_string(want));
      fail_all(bad, want, bad);
      return;
    }
  }
  Call c = std::move(pending_.front());
  pending_.pop_front();
  if (!c.is_raw) {
    forget_deadline(c.deadline_ms);
    if (c.done) c.done(line);
    return;
  }
  auto alive = alive_;
  int64_t n = c.raw.on_header ? c.raw.on_header(line) : 0;
  if (!*alive || closed_) return;
  if (n < 0) {
    forget_deadline(c.deadline_ms);
    fail_all(Status(Code::kProtocol, "call " + peer() + ": response header does not frame its payload"), 0,
             {});
    return;
  }
  if (n == 0) {
    forget_deadline(c.deadline_ms);
    return;
  }
  raw_current_ = std::move(c);
  link_->expect_raw(n);
}

void RpcClient::on_raw(std::string_view chunk, bool last) {
  if (closed_ || !raw_current_) return;
  if (!last) {
    if (raw_current_->raw.on_raw) raw_current_->raw.on_raw(chunk, false);
    return;
  }
  Call c = std::move(*raw_current_);
  raw_current_.reset();
  forget_deadline(c.deadline_ms);
  if (c.raw.on_raw) c.raw.on_raw(chunk, true);
}

void RpcClient::on_link_closed(Status why) {
  auto alive = alive_;
  if (!why_) why_ = why;
  fail_all(why, 0, {});  // nothing left to fail after a timeout or a protocol error
  if (!*alive) return;
  if (on_closed_) {
    auto cb = std::move(on_closed_);
    on_closed_ = nullptr;
    cb(*why_);
  }
}

void RpcClient::on_timer() {
  armed_ms_ = 0;
  if (closed_ || deadlines_.empty()) return;
  int64_t due = *deadlines_.begin();
  if (due > clock::monotonic_ms()) {
    rearm();  // the timer's millisecond rounding woke us a little early
    return;
  }
  uint64_t late = 0;
  if (raw_current_ && raw_current_->deadline_ms == due) late = raw_current_->id;
  for (const Call& c : pending_) {
    if (late == 0 && c.deadline_ms == due) late = c.id;
  }
  Status timeout(Code::kTimeout, "call " + peer() + ": no response in time");
  fail_all(Status(Code::kUnavailable, "call " + peer() + ": link closed after call " + std::to_string(late) +
                                          " timed out"),
           late, timeout);
}

void RpcClient::fail_all(Status why, uint64_t head_id, Status head_status) {
  closed_ = true;
  if (!why_) why_ = head_id != 0 ? head_status : why;
  auto alive = alive_;
  std::optional<Call> raw = std::move(raw_current_);
  raw_current_.reset();
  std::deque<Call> calls;
  calls.swap(pending_);
  deadlines_.clear();
  timer_->stop();
  armed_ms_ = 0;
  link_->close();  // first, so calls made from the callbacks below are refused
  Status rest(Code::kUnavailable, why.is_ok() ? "call " + peer() + ": link closed" : why.message());
  if (raw) {
    // Its header was delivered: the failure ends the raw bytes instead.
    if (raw->raw.on_raw) raw->raw.on_raw(raw->id == head_id ? head_status : rest, true);
    if (!*alive) return;
  }
  for (Call& c : calls) {
    const Status& s = c.id == head_id ? head_status : rest;
    if (c.is_raw) {
      if (c.raw.on_header) c.raw.on_header(s);
    } else if (c.done) {
      c.done(s);
    }
    if (!*alive) return;
  }
}

void RpcClient::forget_deadline(int64_t deadline_ms) {
  if (deadline_ms <= 0) return;
  auto it = deadlines_.find(deadline_ms);
  if (it != deadlines_.end()) deadlines_.erase(it);
  rearm();
}

void RpcClient::rearm() {
  if (closed_) return;
  if (deadlines_.empty()) {
    if (armed_ms_ != 0) timer_->stop();
    armed_ms_ = 0;
    return;
  }
  int64_t next = *deadlines_.begin();
  if (next == armed_ms_) return;
  armed_ms_ = next;
  timer_->start(std::max<int64_t>(0, next - clock::monotonic_ms()), 0, [this] { on_timer(); });
}

}  // namespace kreek::net
