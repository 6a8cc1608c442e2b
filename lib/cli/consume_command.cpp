// kconsume: start positions, the fetch loop, output and checkpoint.
// stdout is flushed before every fetch, so in follow mode a record is on the
// screen before the next long poll blocks; while data streams, each fetch
// returns at once and the flush is one write(2) per fetch round.
#include "cli/consume_command.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>

#include "base/clock.h"
#include "base/topic_name.h"
#include "cli/checkpoint.h"
#include "cli/output_format.h"
#include "cli/output_sink.h"
#include "cli/output_writer.h"
#include "cli/progress_meter.h"
#include "cli/start_position.h"
#include "client/client.h"

namespace kreek::cli {
namespace {

// An out-of-range error tells the user the way on.
Status with_reset_hint(Status s) {
  if (s.code() != Code::kOffsetOutOfRange) return s;
  return Status(s.code(), s.message() + "; use --reset earliest|latest");
}

// Start offsets for every partition, per --from / -n (checkpoint applied later).
Result<std::vector<client::Cursor>> start_cursors(client::Consumer& consumer, const ConsumeConfig& c,
                                                  const std::vector<int32_t>& partitions,
                                                  const std::vector<client::PartitionOffsets>& ends) {
  std::vector<client::Cursor> cursors;
  std::optional<StartPosition> from;
  if (c.from) {
    KREEK_ASSIGN_OR_RETURN(StartPosition sp, parse_start_position(*c.from, clock::now_ms()));
    from = sp;
  }
  std::map<int32_t, int64_t> at_time;
  if (from && from->kind == StartPosition::Kind::kTime) {
    KREEK_ASSIGN_OR_RETURN(auto offs, consumer.list_offsets(partitions, std::to_string(from->value)));
    for (const auto& o : offs) at_time[o.partition] = o.offset;
  }
  for (const auto& e : ends) {
    client::Cursor cur;
    cur.partition = e.partition;
    cur.next = e.log_start;
    if (c.last) {
      cur.next = std::max(e.log_start, e.log_end - *c.last);
    } else if (from) {
      switch (from->kind) {
        case StartPosition::Kind::kBeginning: cur.next = e.log_start; break;
        case StartPosition::Kind::kEnd: cur.next = e.log_end; break;
        case StartPosition::Kind::kOffset: cur.next = from->value; break;
        case StartPosition::Kind::kTime: cur.next = at_time.count(e.partition) ? at_time[e.partition] : e.log_end; break;
      }
    }
    cur.stop = c.follow ? -1 : e.log_end;
    cursors.push_back(cur);
  }
  return cursors;
}

// A start position outside [log start, log end] (an offset past the end, or
// one that retention deleted after a checkpoint saved it) is never skipped
// silently: with --reset it jumps to the earliest or latest offset and says so
// on stderr; without, the run fails with OFFSET_OUT_OF_RANGE naming the range
// (Kafka's auto.offset.reset=none). `ends` is in the cursors' order.
Status check_start_positions(std::vector<client::Cursor>& cursors,
                             const std::vector<client::PartitionOffsets>& ends, client::ResetPolicy reset,
                             const std::string& topic) {
  std::string first;
  int more = 0;
  for (size_t i = 0; i < cursors.size(); ++i) {
    client::Cursor& cur = cursors[i];
    const client::PartitionOffsets& e = ends[i];
    if (cur.next >= e.log_start && cur.next <= e.log_end) continue;
    std::string m = client::out_of_range_message(topic, cur.partition, cur.next, e.log_start, e.log_end);
    if (reset != client::ResetPolicy::kNone) {
      cur.next = client::reset_position(reset, cur.next, e.log_start, e.log_end);
      warn(m + ", reset to " + std::to_string(cur.next));
    } else if (first.empty()) {
      first = std::move(m);
    } else {
      ++more;
    }
  }
  if (first.empty()) return Status::ok();
  if (more > 0) first += " (and " + std::to_string(more) + " more partition" + (more > 1 ? "s" : "") + ")";
  return Status(Code::kOffsetOutOfRange, std::move(first));
}

// The topic's partitions and their offsets. Without -f a missing broker or
// topic fails at once (69, 66); with -f both are waited for, like tail -F
// waits for a file, saying once on stderr what it waits for and once when the
// wait is over. The topic is never created here.
Status open_topic(client::Cluster& cluster, client::Consumer& consumer, const ConsumeConfig& c,
                  std::vector<int32_t>& partitions, std::vector<client::PartitionOffsets>& ends) {
  client::OutageNotice outage;
  outage.on_waiting = [](const std::string& m) { notice(m); };
  outage.on_recovered = [] { notice("reading again"); };
  bool told_missing = false;
  for (int attempt = 0;; ++attempt) {
    Status s = [&]() -> Status {
      KREEK_ASSIGN_OR_RETURN(int32_t count, consumer.partition_count());
      partitions.clear();
      if (c.partition) {
        if (*c.partition < 0 || *c.partition >= count)
          return Status(Code::kUnknownPartition, "topic \"" + c.topic + "\" has no partition " +
                                                     std::to_string(*c.partition));
        partitions.push_back(*c.partition);
      } else {
        for (int32_t p = 0; p < count; ++p) partitions.push_back(p);
      }
      KREEK_ASSIGN_OR_RETURN(ends, consumer.list_offsets(partitions, "latest"));
      return Status::ok();
    }();
    if (s.is_ok()) {
      outage.succeeded();
      if (told_missing) notice("topic \"" + c.topic + "\" has appeared; following it");
      return s;
    }
    if (!c.follow || s.message() == "interrupted") return s;
    if (s.code() == Code::kUnknownTopic) {
      outage.succeeded();  // a broker answered
      if (!told_missing) notice("waiting for topic \"" + c.topic + "\" to be created");
      told_missing = true;
    } else if (is_retriable(s.code())) {
      outage.failed(s);
    } else {
      return s;
    }
    if (!cluster.backoff(attempt)) return Status(Code::kTimeout, "interrupted");
  }
}

}  // namespace

void add_consume_flags(CLI::App& app, ConsumeConfig& c) {
  // Kafka's name rule for each name; several names only with -g (checked later).
  static const CLI::Validator topic_list_check(
      [](std::string& v) -> std::string {
        auto t = parse_topic_list(v);
        return t.is_ok() ? std::string() : t.status().message();
      },
      "");
  app.add_option("-t,--topic", c.topic, "topic to read; with -g, TOPIC[,TOPIC...]")
      ->required()
      ->type_name("TOPIC")
      ->check(topic_list_check);
  app.add_flag("-f,--follow", c.follow, "keep waiting for new records, like tail -f");
  app.add_option("-n,--last", c.last, "start N records before the end of each partition")->type_name("N");
  app.add_option("--from", c.from,
                 "start at beginning, end, an OFFSET, @UNIX_MS, an ISO 8601 time, or a duration ago (15m)")
      ->type_name("POS");
  add_partition_flag(app, c.partition, "read only this partition");
  app.add_option("-c,--count", c.count, "stop after N records")->type_name("N");
  app.add_flag("--json", c.json, "print one JSON envelope per record");
  app.add_option("--format", c.format,
                 "print records as FMT: %t topic, %p partition, %o offset, %k key, %v value, "
                 "%T timestamp, %h headers, %%; \\n \\t \\\\ escapes; no newline is added")
      ->type_name("FMT");
  app.add_option("--null", c.null_text,
                 "print a null key or value (%k, %v, the bare value) as STR, not as nothing; "
                 "kcat -Z is --null NULL")
      ->type_name("STR");
  app.add_option("--checkpoint", c.checkpoint,
                 "start from and save positions in FILE (its directory must exist)")
      ->type_name("FILE");
  app.add_option("--reset", c.reset,
                 "when a start position is out of range, jump to the earliest or latest offset "
                 "(default: fail, exit 65; with -g: earliest)")
      ->type_name("earliest|latest");
  app.add_option("-g,--group", c.group,
                 "read as a member of consumer group GROUP: its members share the partitions, and "
                 "positions are committed to the group")
      ->type_name("GROUP");
  app.add_option("--assignor", c.assignor,
                 "with -g: how partitions are shared (default: cooperative-sticky)")
      ->type_name("range|roundrobin|sticky|cooperative-sticky");
  app.add_option("--session-timeout-ms", c.session_timeout_ms,
                 "with -g: a member silent this long is removed from the group (default: 10000)")
      ->type_name("MS");
  app.add_option("--commit-interval-ms", c.commit_interval_ms,
                 "with -g: commit what was written this often (default: 5000)")
      ->type_name("MS");
  app.add_option("--commit", c.commit, "with -g: off reads without committing (default: on)")->type_name("on|off");
  app.add_option("--instance-id", c.instance_id,
                 "with -g: a stable member name (static membership): a restart within the session "
                 "timeout takes the member's place without a rebalance")
      ->type_name("ID");
}

Result<std::vector<std::string>> parse_topic_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    std::string name = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (std::string p = topic_name_problem(name); !p.empty()) return usage_error(p);
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Status run_consume(const ConsumeConfig& c) {
  set_verbosity(c.common.verbose, c.common.quiet);
  if (c.json && c.format) return usage_error("--json and --format cannot be used together");
  if (c.json && c.null_text) return usage_error("--json prints null keys and values as null; --null is for the other outputs");
  if (c.last && c.from) return usage_error("-n and --from cannot be used together");
  if (c.last && *c.last < 0) return usage_error("-n must be >= 0");
  if (c.count && *c.count < 0) return usage_error("--count must be >= 0");
  client::ResetPolicy reset = client::ResetPolicy::kNone;
  if (c.reset) {
    if (*c.reset == "earliest") reset = client::ResetPolicy::kEarliest;
    else if (*c.reset == "latest") reset = client::ResetPolicy::kLatest;
    else return usage_error("bad --reset \"" + *c.reset + "\": want earliest or latest");
  }
  if (c.from) {  // check the syntax before touching the network
    auto sp = parse_start_position(*c.from, clock::now_ms());
    if (!sp.is_ok()) return usage_error(sp.status().message());
  }
  RecordFormatter fmt = RecordFormatter::value_only();
  if (c.json) fmt = RecordFormatter::json();
  if (c.format) {
    auto f = RecordFormatter::from_format(*c.format);
    if (!f.is_ok()) return usage_error(f.status().message());
    fmt = std::move(f).value();
  }
  if (c.null_text) fmt.set_null_text(*c.null_text);
  if (c.group) {
    if (c.checkpoint) return usage_error("--checkpoint is for reading without a group; -g commits positions to the group");
    if (c.partition) return usage_error("-p cannot be used with -g: the group assigns the partitions");
    return run_group_consume(c, fmt);
  }
  for (const char* flag : {"--assignor", "--session-timeout-ms", "--commit-interval-ms", "--commit", "--instance-id"}) {
    const bool given = (std::string_view(flag) == "--assignor" && c.assignor) ||
                       (std::string_view(flag) == "--session-timeout-ms" && c.session_timeout_ms) ||
                       (std::string_view(flag) == "--commit-interval-ms" && c.commit_interval_ms) ||
                       (std::string_view(flag) == "--commit" && c.commit) ||
                       (std::string_view(flag) == "--instance-id" && c.instance_id);
    if (given) return usage_error(std::string(flag) + " needs -g GROUP");
  }
  if (c.topic.find(',') != std::string::npos) return usage_error("several topics need -g GROUP; without it read one topic");
  std::optional<Checkpoint> checkpoint;
  if (c.checkpoint) {
    if (Status w = check_checkpoint_writable(*c.checkpoint); !w.is_ok())
      return cant_create_error(w.message());
    KREEK_ASSIGN_OR_RETURN(checkpoint, load_checkpoint(*c.checkpoint));
    if (checkpoint && checkpoint->topic != c.topic)
      return usage_error("checkpoint " + *c.checkpoint + " is for topic \"" + checkpoint->topic +
                         "\", not \"" + c.topic + "\"");
  }

  // With -f the first broker is dialled inside open_topic's wait; without, at once.
  std::unique_ptr<client::Cluster> cluster;
  if (c.follow) {
    KREEK_ASSIGN_OR_RETURN(client::ClientOptions copts, client_options(c.common));
    cluster = std::make_unique<client::Cluster>(std::move(copts));
  } else {
    KREEK_ASSIGN_OR_RETURN(cluster, connect(c.common));
  }
  client::ConsumerOptions opts;
  opts.topic = c.topic;
  opts.max_wait_ms = 500;
  opts.reset = reset;
  opts.on_notice = [](const std::string& m) { warn(m); };
  opts.wait_for_brokers = c.follow;
  opts.ride_out_ms = kRideOutFailoverMs;
  opts.on_waiting = [](const std::string& m) { notice(m); };
  opts.on_recovered = [] { notice("reading again"); };
  client::Consumer consumer(*cluster, opts);

  std::vector<int32_t> partitions;
  std::vector<client::PartitionOffsets> ends;
  KREEK_RETURN_IF_ERROR(open_topic(*cluster, consumer, c, partitions, ends));
  KREEK_ASSIGN_OR_RETURN(auto cursors, start_cursors(consumer, c, partitions, ends));
  if (checkpoint)
    for (auto& cur : cursors) {
      auto it = checkpoint->offsets.find(cur.partition);
      if (it != checkpoint->offsets.end()) cur.next = it->second;
    }
  KREEK_RETURN_IF_ERROR(with_reset_hint(check_start_positions(cursors, ends, reset, c.topic)));
  consumer.assign(cursors);

  OutputWriter out(STDOUT_FILENO);
  OutputSink sink(fmt, out, c.count);
  // An export (not -f) into a file or pipe shows progress on a terminal.
  int64_t to_export = 0;
  for (const auto& cur : cursors) to_export += cur.stop > cur.next ? cur.stop - cur.next : 0;
  if (c.count && *c.count < to_export) to_export = *c.count;
  ProgressMeter meter(c.topic, to_export, !c.follow && should_show_progress(c.common.quiet));
  Status s;
  bool stopped = c.count && *c.count == 0;
  while (!stopped && !consumer.all_done() && !client::stop_requested()) {
    s = out.flush();
    if (!s.is_ok() || out.broken_pipe()) break;
    if (c.follow && out.reader_gone()) break;
    s = consumer.poll(sink, stopped);
    if (!s.is_ok()) break;
    if (!sink.error().is_ok()) s = sink.error();
    meter.update(sink.written());
  }
  meter.clear();
  Status f = out.flush();
  if (s.is_ok()) s = f;
  if (out.broken_pipe()) return Status::ok();  // the reader left: end quietly
  if (c.checkpoint && f.is_ok()) {
    // Positions only ever cover records already written to stdout.
    Checkpoint cp;
    cp.topic = c.topic;
    if (checkpoint) cp.offsets = checkpoint->offsets;
    for (const auto& cur : consumer.cursors()) cp.offsets[cur.partition] = cur.next;
    Status w = save_checkpoint(*c.checkpoint, cp);
    if (s.is_ok()) s = w;
  }
  return with_reset_hint(s);
}

}  // namespace kreek::cli
