// kconsume -g: read as a member of a consumer group. The group assigns the
// partitions; positions start at the group's committed offsets (else at
// --from, by default the log start) and are committed on an interval and at
// a clean end, always after stdout was flushed, so a commit never covers a
// record that was not written. Without -f the read is bounded: each
// partition ends at its high watermark as it was when it was assigned, and
// when all are done the member commits, leaves and exits 0.
#include <unistd.h>

#include <algorithm>

#include "base/clock.h"
#include "base/topic_name.h"
#include "cli/consume_command.h"
#include "cli/output_format.h"
#include "cli/output_sink.h"
#include "cli/output_writer.h"
#include "cli/start_position.h"
#include "client/client.h"
#include "client/group_consumer.h"

namespace kreek::cli {
namespace {

bool known_assignor(const std::string& a) {
  return a == "range" || a == "roundrobin" || a == "sticky" || a == "cooperative-sticky";
}

// Topics that do not exist: without -f that is an error (66), as for one topic.
Status check_topics(client::Cluster& cluster, const std::vector<std::string>& topics, bool follow) {
  for (const auto& t : topics) {
    auto meta = cluster.topic(t, /*auto_create=*/false);
    if (meta.is_ok() || (follow && is_retriable(meta.status().code()))) continue;  // -f waits for brokers
    if (meta.status().code() != Code::kUnknownTopic || !follow) return meta.status();
    notice("topic \"" + t + "\" does not exist yet; the group assigns it once it is created");
  }
  return Status::ok();
}

}  // namespace

Status run_group_consume(const ConsumeConfig& c, const RecordFormatter& fmt) {
  std::string assignor = c.assignor.value_or("cooperative-sticky");
  if (!known_assignor(assignor))
    return usage_error("bad --assignor \"" + assignor + "\": want range, roundrobin, sticky or cooperative-sticky");
  if (std::string p = topic_name_problem(*c.group); !p.empty()) return usage_error("bad group name: " + p);
  const int64_t session = c.session_timeout_ms.value_or(10'000);
  if (session < 1 || session > 3'600'000) return usage_error("--session-timeout-ms must be in [1, 3600000]");
  const int64_t interval = c.commit_interval_ms.value_or(5'000);
  if (interval < 0) return usage_error("--commit-interval-ms must be >= 0");
  bool commit = true;
  if (c.commit) {
    if (*c.commit == "off") commit = false;
    else if (*c.commit != "on") return usage_error("bad --commit \"" + *c.commit + "\": want on or off");
  }
  if (c.instance_id && c.instance_id->empty()) return usage_error("--instance-id must not be empty");
  KREEK_ASSIGN_OR_RETURN(std::vector<std::string> topics, parse_topic_list(c.topic));

  client::StartSpec start;  // a new group reads the backlog (Kafka's default is latest)
  using Kind = client::StartSpec::Kind;
  if (c.last) {
    start = {Kind::kLast, *c.last};
  } else if (c.from) {
    KREEK_ASSIGN_OR_RETURN(StartPosition sp, parse_start_position(*c.from, clock::now_ms()));
    switch (sp.kind) {
      case StartPosition::Kind::kBeginning: start = {Kind::kBeginning, 0}; break;
      case StartPosition::Kind::kEnd: start = {Kind::kEnd, 0}; break;
      case StartPosition::Kind::kOffset: start = {Kind::kOffset, sp.value}; break;
      case StartPosition::Kind::kTime: start = {Kind::kTime, sp.value}; break;
    }
  }
  client::ResetPolicy reset = client::ResetPolicy::kEarliest;
  if (c.reset && *c.reset == "latest") reset = client::ResetPolicy::kLatest;

  std::unique_ptr<client::Cluster> cluster;
  if (c.follow) {
    KREEK_ASSIGN_OR_RETURN(client::ClientOptions copts, client_options(c.common));
    cluster = std::make_unique<client::Cluster>(std::move(copts));
  } else {
    KREEK_ASSIGN_OR_RETURN(cluster, connect(c.common));
  }
  KREEK_RETURN_IF_ERROR(check_topics(*cluster, topics, c.follow));

  client::ConsumerOptions opts;
  opts.topic = topics.front();
  // Heartbeats go between fetch rounds, so a round never outlasts a quarter
  // of a beat: a rebalance is heard of at most that much after it is due.
  opts.max_wait_ms = static_cast<int>(std::clamp<int64_t>(client::heartbeat_interval_ms(session) / 4, 20, 500));
  opts.reset = reset;
  opts.on_notice = [](const std::string& m) { warn(m); };
  opts.wait_for_brokers = c.follow;
  opts.ride_out_ms = kRideOutFailoverMs;
  opts.on_waiting = [](const std::string& m) { notice(m); };
  opts.on_recovered = [] { notice("reading again"); };
  client::Consumer consumer(*cluster, opts);

  OutputWriter out(STDOUT_FILENO);
  OutputSink sink(fmt, out, c.count);

  client::GroupConsumerOptions g;
  g.member.group = *c.group;
  g.member.client_id = "kconsume";
  g.member.instance_id = c.instance_id.value_or("");
  g.member.topics = topics;
  g.member.assignor = assignor;
  g.member.session_timeout_ms = session;
  g.member.retry_for_ms = c.follow ? -1 : 60'000;
  g.member.on_notice = [](const std::string& m) { info(m); };
  g.follow = c.follow;
  g.start = start;
  g.reset = reset;
  g.commit = commit;
  g.commit_interval_ms = interval;
  g.flush = [&out]() -> Status {
    KREEK_RETURN_IF_ERROR(out.flush());
    if (out.broken_pipe()) return Status(Code::kIoError, "stdout was closed");
    return Status::ok();
  };
  g.on_info = [](const std::string& m) { info(m); };
  g.on_warning = [](const std::string& m) { warn(m); };
  client::GroupConsumer group(*cluster, consumer, g);

  Status s = group.start();
  bool stopped = c.count && *c.count == 0;
  while (s.is_ok() && !stopped && !client::stop_requested()) {
    if (group.all_done()) break;
    s = out.flush();
    if (!s.is_ok() || out.broken_pipe()) break;
    if (c.follow && out.reader_gone()) break;
    s = group.poll(sink, stopped);
    if (s.is_ok() && !sink.error().is_ok()) s = sink.error();
  }
  if (s.message() == "interrupted") s = Status::ok();
  Status f = out.flush();
  if (s.is_ok()) s = f;
  // A clean end commits what was written and leaves, so the others take the
  // partitions over at once. A static member stopped by a signal stays (as
  // Kafka's static members do): its restart takes its place without a
  // rebalance. When stdout was closed nothing more is committed: the buffer
  // may not have been written.
  const bool written = f.is_ok() && !out.broken_pipe();
  const bool leave = !(c.instance_id && client::stop_requested());
  if (group.member().generation() >= 0 || group.member().join_pending()) {
    Status closed = group.close(leave, commit && written);
    if (s.is_ok()) s = closed;
  }
  if (out.broken_pipe()) return Status::ok();
  return s;
}

}  // namespace kreek::cli
