// OutageNotice and the broker address/reason split of connection errors.
#include "client/outage.h"

#include <string_view>

namespace kreek::client {

std::string waiting_message(const Status& why) {
  std::string_view m = why.message();
  // BrokerConnection's shapes: "<op> ADDR: REASON" and "connection to ADDR REASON".
  for (std::string_view prefix : {"cannot connect to ", "send to ", "recv from "}) {
    if (m.substr(0, prefix.size()) != prefix) continue;
    std::string_view rest = m.substr(prefix.size());
    size_t sep = rest.find(": ");
    if (sep == std::string_view::npos) break;
    return "waiting for broker " + std::string(rest.substr(0, sep)) + " (" +
           std::string(rest.substr(sep + 2)) + ")";
  }
  constexpr std::string_view kConn = "connection to ";
  if (m.substr(0, kConn.size()) == kConn) {
    std::string_view rest = m.substr(kConn.size());
    size_t sp = rest.find(' ');
    if (sp != std::string_view::npos)
      return "waiting for broker " + std::string(rest.substr(0, sp)) + " (" +
             std::string(rest.substr(sp + 1)) + ")";
  }
  return "waiting for broker (" + std::string(m) + ")";
}

bool is_outage(Code code) { return code == Code::kUnavailable || code == Code::kTimeout; }

void OutageNotice::failed(const Status& why) {
  if (waiting_ || !is_outage(why.code()) || why.message() == "interrupted") return;
  // A connection that broke is not yet an outage: the redial right after it
  // usually works (a broker restart). Waiting starts when a dial fails, or
  // when a broker stops answering in time.
  if (why.code() == Code::kUnavailable && why.message().rfind("cannot connect to ", 0) != 0) return;
  waiting_ = true;
  if (on_waiting) on_waiting(waiting_message(why));
}

void OutageNotice::succeeded() {
  if (!waiting_) return;
  waiting_ = false;
  if (on_recovered) on_recovered();
}

}  // namespace kreek::client
