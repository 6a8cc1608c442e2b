// Pieces the coordinator's two files share: a request being answered and a
// parked metadata poll. Not part of the module's face.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "coord/coordinator.h"
#include "proto/message.h"

// In an op: answer the request with the error and return if `expr` failed.
#define KREEK_FAIL_IF_ERROR(request, expr)        \
  do {                                           \
    ::kreek::Status kreek_fail_ = (expr);        \
    if (!kreek_fail_.is_ok()) return (request).fail(kreek_fail_); \
  } while (0)

namespace kreek::coord {

struct Coordinator::Request {
  std::string id_raw;       // the request's "id", as sent
  proto::Json body;         // the whole request object
  std::string peer;
  Respond respond;

  void ok(const proto::Json& fields) { respond(proto::ok_line(id_raw, fields)); }
  void fail(const Status& s) { respond(proto::error_line(id_raw, s)); }
};

// A metadata_fetch parked until the log grows past `from` or its deadline.
struct Coordinator::Waiter {
  std::string id_raw;
  int64_t from = 0;
  Respond respond;
  std::unique_ptr<net::Timer> timer;
  bool done = false;

  void finish(Coordinator& c) {
    if (done) return;
    done = true;
    if (timer) timer->stop();
    respond(c.fetch_answer(id_raw, from));
  }
};

}  // namespace kreek::coord
