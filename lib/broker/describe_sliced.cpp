// The sliced describe_topic; see describe_sliced.h. Each slice looks the topic
// up again: it may be deleted or recreated between two turns.
#include "broker/describe_sliced.h"

#include <algorithm>
#include <memory>
#include <string>

#include "broker/admin_ops.h"
#include "broker/broker_context.h"
#include "net/net.h"
#include "proto/request_fields.h"
#include "storage/log_manager.h"

namespace kreek::broker {

using json = nlohmann::ordered_json;

namespace {

struct Describing {
  std::string name;
  int32_t count = 0;
  int32_t next = 0;
  json parts = json::array();
  AsyncDone done;
  std::unique_ptr<net::Timer> timer;
};

Status gone(const std::string& name) {
  return Status(Code::kUnknownTopic, "topic \"" + name + "\" does not exist");
}

// Describes the next slice; schedules the one after it, or answers.
void step(BrokerContext& ctx, const std::shared_ptr<Describing>& d) {
  const storage::TopicInfo* t = ctx.logs.topic(d->name);
  if (t == nullptr || t->partitions < d->count) {
    d->timer.reset();  // safe from its own callback
    return d->done(gone(d->name));
  }
  int32_t end = std::min(d->count, d->next + kDescribeSlice);
  for (; d->next < end; ++d->next) d->parts.push_back(describe_topic_partition(ctx, *t, d->next));
  if (d->next < d->count) {
    // 1 ms, not 0: libuv runs a timer restarted with 0 from its own callback
    // again in the same pass, before any socket is polled.
    d->timer->start(1, 0, [&ctx, d] { step(ctx, d); });
    return;
  }
  AsyncDone done = std::move(d->done);
  json answer = describe_topic_answer(*t, std::move(d->parts));
  d->timer.reset();
  done(std::move(answer));
}

}  // namespace

void admin_describe_topic(BrokerContext& ctx, const json& req, AsyncDone done) {
  std::string name;
  if (Status s = proto::require_topic(req, name); !s.is_ok()) return done(s);
  const storage::TopicInfo* t = ctx.logs.topic(name);
  if (t == nullptr) return done(gone(name));
  if (ctx.loop == nullptr || t->partitions <= kDescribeSlice) return done(handle_describe_topic(ctx, req));
  auto d = std::make_shared<Describing>();
  d->name = name;
  d->count = t->partitions;
  d->parts.get_ref<json::array_t&>().reserve(static_cast<size_t>(t->partitions));
  d->done = std::move(done);
  d->timer = ctx.loop->make_timer();
  step(ctx, d);
}

}  // namespace kreek::broker
