// kproduce --follow: the loop that joins the file follower, the producer and
// the delivery ledger. Input is read only while the producer can take it
// (back-pressure, as for a pipe); acknowledged positions settle in input
// order and are saved every --state-interval-ms and at exit.
#include "cli/follow_command.h"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "base/clock.h"
#include "cli/common.h"
#include "cli/file_follower.h"
#include "cli/follow_journal.h"
#include "client/client.h"

namespace kreek::cli {
namespace {

// Bytes read between two looks at the clock and the inotify events.
constexpr int64_t kReadBudget = 1 << 20;

// A record refused for what it is (too large, bad --json line) would be
// refused again: the position moves past it. Anything else (a delivery
// timeout) leaves it to be sent again after a restart.
bool is_permanent(Code code) {
  switch (code) {
    case Code::kMessageTooLarge:
    case Code::kCorrupt:
    case Code::kInvalidRequest:
    case Code::kUnknownPartition:
      return true;
    default:
      return false;
  }
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

class FollowPump : public FollowSink {
 public:
  FollowPump(client::Producer& producer, LineRecordParser& parser, DeliveryLedger& ledger,
             const FileFollower& follower, bool source_headers)
      : producer_(producer), parser_(parser), ledger_(ledger), follower_(follower),
        source_headers_(source_headers), host_(host_name()) {}

  void on_line(uint32_t file, std::string_view line, int64_t line_no, int64_t end_pos) override {
    note_file(file);
    ++outstanding_[file];
    uint64_t tag = ledger_.add(file, line_no, end_pos);
    if (journal_ != nullptr) {
      int64_t from = read_end_[file];
      journal_->note(follower_.dev(file), follower_.ino(file), line_no, from, end_pos, line_check(line),
                     end_pos - from > static_cast<int64_t>(line.size()));
    }
    read_end_[file] = end_pos;
    send_line(file, line, tag);
  }

  void on_reset(uint32_t file, int64_t pos) override {
    note_file(file);
    ++outstanding_[file];
    ledger_.add_marker(file, 0, pos);
    if (journal_ != nullptr) journal_->note(0, 0, 0, 0, 0, 0, true);
    read_end_[file] = pos;
  }

  void set_journal(InflightJournal* journal) { journal_ = journal; }

  // A restart: registers the plan's lines in the ledger (their tags come
  // first, file by file in position order) and their sources in the journal,
  // and returns per plan batch the tag of its first line. `files`: the
  // follower's number of each plan file. Sends nothing yet.
  std::vector<uint64_t> register_replay(const ResumePlan& plan, const std::vector<uint32_t>& files) {
    replay_tags_.assign(plan.lines.size(), 0);
    std::vector<int64_t> at(plan.files.size());
    for (size_t f = 0; f < plan.files.size(); ++f) {
      note_file(files[f]);
      // Settled is where the state said, not where reading goes on.
      progress_[files[f]] = {plan.files[f].acked_pos, plan.files[f].acked_line};
      at[f] = plan.files[f].acked_pos;
    }
    for (size_t i = 0; i < plan.lines.size(); ++i) {
      const ReplayLine& l = plan.lines[i];
      uint32_t file = files[l.file];
      ++outstanding_[file];
      replay_tags_[i] = ledger_.add(file, l.line, l.end_pos);
      if (journal_ != nullptr)
        journal_->note(follower_.dev(file), follower_.ino(file), l.line, at[l.file], l.end_pos, line_check(l.text),
                       l.end_pos - at[l.file] > static_cast<int64_t>(l.text.size()));
      at[l.file] = l.end_pos;
    }
    std::vector<uint64_t> first;
    for (const auto& lines : plan.batch_lines) {
      uint64_t t = 0;
      for (size_t li : lines)
        if (li != SIZE_MAX) {
          t = replay_tags_[li];
          break;
        }
      first.push_back(t);
    }
    return first;
  }

  // Then: batches acknowledged before the restart are resolved with their
  // offsets, the others resent with their partition and sequence numbers (in
  // journal order, before anything new takes numbers after them), then the
  // lines between them go out as new records.
  Status send_replay(const ResumePlan& plan, const std::vector<uint32_t>& files) {
    std::vector<proto::Record> recs;
    for (size_t b = 0; b < plan.batches.size(); ++b) {
      const JournalBatch& jb = plan.batches[b];
      if (jb.acked) {
        for (size_t li : plan.batch_lines[b]) {
          if (li == SIZE_MAX) continue;
          std::vector<uint64_t> one{replay_tags_[li]};
          client::Delivery d;
          d.partition = jb.partition;
          d.base_offset = plan.lines[li].offset;
          d.timestamp = jb.ts;
          d.tags = &one;
          ledger_.on_delivery(d);
        }
        continue;
      }
      recs.clear();
      std::vector<uint64_t> tags;
      Status bad;
      for (size_t li : plan.batch_lines[b]) {
        const ReplayLine& l = plan.lines[li];
        tags.push_back(replay_tags_[li]);
        recs.emplace_back();
        std::optional<int32_t> ignored;
        Status s = parser_.parse(l.text, recs.back(), ignored);
        if (!s.is_ok() && bad.is_ok()) bad = s;
        if (source_headers_) {
          recs.back().headers.emplace_back("file", follower_.path(files[l.file]));
          recs.back().headers.emplace_back("host", host_);
        }
      }
      if (!bad.is_ok()) {
        // Limitation: a line that no longer parses (other flags than before
        // the restart) fails its whole batch; it cannot be resent as it was.
        for (uint64_t t : tags) producer_.fail_local(bad, t);
        continue;
      }
      KREEK_RETURN_IF_ERROR(producer_.send_numbered(jb.partition, jb.first_seq, recs, std::move(tags)));
    }
    for (size_t i = 0; i < plan.lines.size(); ++i) {
      const ReplayLine& l = plan.lines[i];
      if (l.batch < 0) send_line(files[l.file], l.text, replay_tags_[i]);
    }
    replay_tags_.clear();
    return fatal_;
  }

  // Settles what was acknowledged: receipts, and the positions to save.
  Status settle(ReceiptWriter& receipts) {
    size_t n = ledger_.settle([&](const SettledRecord& r) {
      const std::string& path = follower_.path(r.source);
      receipts.add(r, path, /*with_pos=*/true);
      --outstanding_[r.source];
      if (r.error != nullptr) {
        warn(path + ":" + std::to_string(r.line) + ": record not delivered: " + r.error->message());
        if (!is_permanent(r.error->code())) halted_ = true;
      }
      // Once a record is lost for a reason that may pass, nothing after it
      // is saved as done: a restart sends it again.
      if (halted_) return;
      progress_[r.source] = {r.end_pos, r.line};
      dirty_ = true;
    });
    if (journal_ != nullptr)
      for (size_t i = 0; i < n; ++i) journal_->settled();
    if (n == 0) return Status::ok();
    return receipts.is_open() ? receipts.flush() : Status::ok();
  }

  // The state to save: every file still followed or with records in flight.
  FollowState snapshot(const std::string& topic) {
    FollowState st;
    st.topic = topic;
    for (uint32_t i = follower_.file_count(); i-- > 0;) {
      note_file(i);
      if (!follower_.is_open(i) && outstanding_[i] == 0) continue;  // finished
      if (st.find(follower_.dev(i), follower_.ino(i)) != nullptr) continue;  // a newer file has its inode
      st.files.push_back({follower_.dev(i), follower_.ino(i), follower_.path(i), progress_[i].first,
                          progress_[i].second});
    }
    std::reverse(st.files.begin(), st.files.end());
    dirty_ = false;
    return st;
  }

  bool dirty() const { return dirty_; }
  const Status& fatal() const { return fatal_; }

 private:
  void send_line(uint32_t file, std::string_view line, uint64_t tag) {
    Status s = parser_.parse(line, rec_, partition_);
    if (!s.is_ok()) {
      producer_.fail_local(s, tag);
      return;
    }
    if (source_headers_) {
      rec_.headers.emplace_back("file", follower_.path(file));
      rec_.headers.emplace_back("host", host_);
    }
    Status f = producer_.send(rec_, partition_, tag);
    if (!f.is_ok() && fatal_.is_ok()) fatal_ = f;
    // Back to the -H headers only, so the parser reuses them as they are.
    if (source_headers_) rec_.headers.resize(rec_.headers.size() - 2);
  }

  // Positions of files first seen: where reading began.
  void note_file(uint32_t file) {
    while (progress_.size() <= file) {
      uint32_t i = static_cast<uint32_t>(progress_.size());
      progress_.emplace_back(follower_.start_pos(i), follower_.start_line(i));
      read_end_.push_back(follower_.start_pos(i));
      outstanding_.push_back(0);
      dirty_ = true;
    }
  }

  client::Producer& producer_;
  LineRecordParser& parser_;
  DeliveryLedger& ledger_;
  const FileFollower& follower_;
  bool source_headers_;
  std::string host_;
  proto::Record rec_;
  std::optional<int32_t> partition_;
  Status fatal_;
  std::vector<std::pair<int64_t, int64_t>> progress_;  // per file: acknowledged (pos, line)
  std::vector<int64_t> outstanding_;                    // per file: records not settled
  std::vector<int64_t> read_end_;                       // per file: the byte after the last line read
  InflightJournal* journal_ = nullptr;                  // with --state and idempotence
  std::vector<uint64_t> replay_tags_;                   // a restart: the plan's lines' tags
  bool halted_ = false;
  bool dirty_ = false;
};

}  // namespace

void add_follow_flags(CLI::App& app, FollowConfig& c) {
  app.add_flag("--follow", c.follow,
               "follow the FILEs (names or quoted globs) like tail -F, through rotation by rename or "
               "copytruncate, picking up new files, until SIGINT/SIGTERM");
  app.add_option("--state", c.state_path,
                 "with --follow: remember per file how far it was acknowledged, to resume from there; with "
                 "idempotence, journal the batches in flight in FILE.inflight so a restart after a crash "
                 "resends them without storing them twice")
      ->type_name("FILE");
  app.add_option("--state-interval-ms", c.state_interval_ms,
                 "save --state durably (fsync) at most this often, and at exit (default 1000; 0: after every "
                 "ack); FILE.live is written after every ack regardless")
      ->type_name("MS");
  app.add_option("--poll-interval-ms", c.poll_interval_ms,
                 "re-check names and globs for rotated and new files this often (default 1000)")
      ->type_name("MS");
  app.add_option("--partial-wait-ms", c.partial_wait_ms,
                 "hold a line without its newline this long, then send it as is (default 5000)")
      ->type_name("MS");
  app.add_option("--rotate-wait-ms", c.rotate_wait_ms,
                 "keep reading a renamed-away file until it is idle this long (default 5000)")
      ->type_name("MS");
  app.add_option("--read-from", c.read_from,
                 "where to start files found at start that --state does not know: beginning (default) or "
                 "end; files appearing later are always read from the beginning")
      ->type_name("WHERE");
  app.add_flag("--source-headers", c.source_headers,
               "with --follow: add headers \"file\" (the followed name) and \"host\" to every record");
  app.add_option("--receipts", c.receipts,
                 "write one JSON line per input record once acknowledged, in input order ('-' = stdout)")
      ->type_name("FILE");
}

Status check_follow_flags(const FollowConfig& c, const std::vector<std::string>& files, int acks) {
  if (!c.follow) {
    if (!c.state_path.empty()) return usage_error("--state needs --follow");
    if (c.source_headers) return usage_error("--source-headers needs --follow");
  } else {
    if (files.empty()) return usage_error("--follow needs at least one FILE (a name or a quoted glob)");
    for (const auto& f : files)
      if (f == "-") return usage_error("--follow cannot follow stdin: pipe it into kproduce without --follow");
  }
  if (c.read_from != "beginning" && c.read_from != "end")
    return usage_error("bad --read-from \"" + c.read_from + "\": want beginning or end");
  if (c.state_interval_ms < 0 || c.poll_interval_ms < 1 || c.partial_wait_ms < 0 || c.rotate_wait_ms < 0)
    return usage_error("--poll-interval-ms must be positive; --state-interval-ms, --partial-wait-ms and "
                       "--rotate-wait-ms must not be negative");
  if (!c.receipts.empty() && acks == 0)
    return usage_error("--receipts needs acknowledgements: not with --acks 0");
  return Status::ok();
}

Result<std::optional<FollowState>> load_state_for(const FollowConfig& c, const std::string& topic) {
  if (c.state_path.empty()) return std::optional<FollowState>();
  // Fail before anything is read if the state could never be saved.
  auto slash = c.state_path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : c.state_path.substr(0, slash);
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return cant_create_error("cannot write state " + c.state_path + ": directory " + dir +
                             " is missing or not writable");
  KREEK_ASSIGN_OR_RETURN(std::optional<FollowState> st, load_follow_state(c.state_path));
  if (st && st->topic != topic)
    return usage_error("state " + c.state_path + " is for topic \"" + st->topic + "\", not \"" + topic +
                       "\": use another --state file per topic");
  return st;
}

FollowResume prepare_follow(const FollowConfig& c, const std::optional<FollowState>& saved,
                            client::ProducerOptions& popts, DeliveryLedger& ledger) {
  FollowResume r;
  // Exactly once across restarts needs the broker's duplicate check, so only
  // an idempotent producer keeps a journal; without one a restart resends
  // what was in flight (at-least-once).
  if (c.state_path.empty() || !popts.idempotent || popts.acks == 0) return r;
  if (saved) {
    std::string why;
    r.plan = plan_resume(c.state_path, *saved, &why);
    if (r.plan) {
      popts.resume = r.plan->producer;
    } else if (!why.empty()) {
      info(why + ": a new producer id; lines in flight before the restart are sent again and may be stored twice");
    }
  }
  r.journal = std::make_unique<InflightJournal>(c.state_path + ".inflight");
  InflightJournal* j = r.journal.get();
  popts.on_batch = [j](int32_t p, int32_t seq, const std::vector<uint64_t>& tags) { j->on_batch(p, seq, tags); };
  popts.on_released = [j](const std::vector<uint64_t>& tags) { j->on_released(tags); };
  ledger.set_observer([j](const client::Delivery& d) { j->on_delivery(d); });
  return r;
}

Status run_follow(const FollowConfig& c, const std::vector<std::string>& patterns, const std::string& topic,
                  const std::optional<FollowState>& saved_in, FollowResume& resume, client::Producer& producer,
                  LineRecordParser& parser, DeliveryLedger& ledger, ReceiptWriter& receipts) {
  const ResumePlan* plan = resume.plan && producer.is_idempotent() ? &*resume.plan : nullptr;
  // A restart reads on past the lines it resends; the positions it saves
  // stay where the state said until those are acknowledged.
  std::optional<FollowState> saved = saved_in;
  if (plan != nullptr && saved.has_value()) {
    for (FileProgress& f : saved.value().files)
      for (const auto& pf : plan->files)
        if (f.dev == pf.dev && f.ino == pf.ino) f.pos = pf.read_pos, f.line = pf.read_line;
  }
  FollowOptions fo;
  fo.patterns = patterns;
  fo.start_at_end = c.read_from == "end";
  fo.partial_wait_ms = c.partial_wait_ms;
  fo.rotate_wait_ms = c.rotate_wait_ms;
  FileFollower follower(fo);
  follower.on_notice = [](const std::string& m) { info(m); };
  int64_t now = clock::monotonic_ms();
  KREEK_RETURN_IF_ERROR(follower.start(saved ? &*saved : nullptr, now));
  if (follower.open_count() == 0) notice("no file matches yet: waiting for one to appear");
  FollowPump pump(producer, parser, ledger, follower, c.source_headers);
  const bool with_state = !c.state_path.empty();
  InflightJournal* journal = with_state && producer.is_idempotent() ? resume.journal.get() : nullptr;
  std::vector<uint32_t> plan_files;
  if (journal != nullptr) {
    pump.set_journal(journal);
    Journal fresh;
    fresh.pid = producer.producer_id();
    fresh.pepoch = producer.producer_epoch();
    if (plan != nullptr) {
      for (const auto& pf : plan->files) {
        uint32_t idx = follower.file_count();
        for (uint32_t i = 0; i < follower.file_count(); ++i)
          if (follower.dev(i) == pf.dev && follower.ino(i) == pf.ino) idx = i;
        if (idx == follower.file_count()) idx = follower.add_closed(pf.path, pf.dev, pf.ino, pf.read_pos, pf.read_line);
        plan_files.push_back(idx);
      }
      fresh = resumed_journal(*plan, pump.register_replay(*plan, plan_files));
      info("resuming producer id " + std::to_string(fresh.pid) + ": resending " +
           std::to_string(plan->resend_records) + " records that were in flight with their sequence numbers");
    }
    KREEK_RETURN_IF_ERROR(journal->start(fresh));
  } else if (with_state) {
    // Not idempotent now: an old journal must not be taken up later.
    KREEK_RETURN_IF_ERROR(JournalWriter(c.state_path + ".inflight").remove());
  }

  // The state is written after every round of acks (into FILE.live, in
  // place: cheap, and a crash of kproduce then resends only what was in
  // flight) and saved durably at most every --state-interval-ms (a power
  // loss resends up to that much).
  StateWriter writer(c.state_path, saved ? saved->seq : 0);
  int64_t next_sync = now + c.state_interval_ms;
  bool unsynced = false;
  auto snapshot = [&] {
    FollowState st = pump.snapshot(topic);
    if (journal != nullptr) {
      st.pid = producer.producer_id();
      st.pepoch = producer.producer_epoch();
    }
    return st;
  };
  // The journal is cut to what the state does not settle only after that
  // state is saved: on disk, the journal always covers the state's gaps.
  auto save = [&]() -> Status {
    next_sync = clock::monotonic_ms() + c.state_interval_ms;
    unsynced = false;
    if (!with_state) return Status::ok();
    FollowState st = snapshot();
    KREEK_RETURN_IF_ERROR(writer.save_durable(st));
    return journal != nullptr ? journal->compact(st, producer.next_sequences()) : Status::ok();
  };
  auto maybe_save = [&]() -> Status {
    if (!with_state) return Status::ok();
    if (journal != nullptr) KREEK_RETURN_IF_ERROR(journal->flush());
    if (pump.dirty()) {
      if (clock::monotonic_ms() >= next_sync) return save();
      unsynced = true;
      FollowState st = snapshot();
      return writer.save_quick(st);
    }
    if (unsynced && clock::monotonic_ms() >= next_sync) return save();
    return Status::ok();
  };
  // Resuming from a saved position is recorded at once, so a crash before the
  // first ack does not forget which files were seen.
  KREEK_RETURN_IF_ERROR(save());
  // Settle and save as each batch's ack arrives, also while send() waits
  // for room: the saved positions then trail the acks by no more than one
  // batch, and a crash resends only what was in flight.
  Status in_callback;
  ledger.set_listener([&] {
    if (!in_callback.is_ok()) return;
    in_callback = pump.settle(receipts);
    if (in_callback.is_ok()) in_callback = maybe_save();
  });
  const int64_t dups_before = producer.stats().duplicates;
  if (plan != nullptr) {
    Status r = pump.send_replay(*plan, plan_files);
    if (!r.is_ok()) return r;
  }

  int64_t next_scan = now + c.poll_interval_ms;
  bool rescan_now = false;
  Status loop;
  while (loop.is_ok() && !client::stop_requested() && producer.fatal().is_ok() && pump.fatal().is_ok()) {
    // Back-pressure: while the broker cannot take records, read nothing.
    if (producer.is_blocked()) {
      int wait = unsynced ? static_cast<int>(std::max<int64_t>(0, next_sync - clock::monotonic_ms())) : 1000;
      loop = producer.service(std::max(wait, 1), -1).status();
      if (loop.is_ok()) loop = pump.settle(receipts);
      if (loop.is_ok()) loop = maybe_save();
      continue;
    }
    now = clock::monotonic_ms();
    if (rescan_now || now >= next_scan) {
      follower.rescan(now);
      next_scan = now + c.poll_interval_ms;
      rescan_now = false;
    }
    auto n = follower.read(now, kReadBudget, pump);
    if (!n.is_ok()) warn(n.status().message());  // that file is closed; the others go on
    if (!pump.fatal().is_ok()) break;
    int64_t got = n.is_ok() ? *n : 0;
    if (got > 0) {
      loop = producer.service(0, -1).status();
    } else {
      // Idle: sleep until new input (inotify), an ack, the linger deadline,
      // the next rescan, a partial line's wait or the next state save.
      now = clock::monotonic_ms();
      int64_t until = next_scan;
      if (int64_t d = follower.next_deadline(); d >= 0) until = std::min(until, d);
      if (unsynced) until = std::min(until, next_sync);
      int wait = static_cast<int>(std::clamp<int64_t>(until - now, 0, INT_MAX));
      auto ready = producer.service(wait, follower.wait_fd());
      if (!ready.is_ok()) {
        loop = ready.status();
      } else if (*ready && follower.drain_events()) {
        rescan_now = true;
      }
    }
    if (loop.is_ok()) loop = pump.settle(receipts);
    if (loop.is_ok()) loop = maybe_save();
    if (loop.is_ok()) loop = in_callback;
  }
  // Stop: what was read is delivered (or the delivery timeout gives up), then
  // the positions of everything acknowledged are saved.
  Status f = producer.flush();
  ledger.set_listener(nullptr);
  Status s = pump.settle(receipts);
  if (s.is_ok()) s = in_callback;
  if (loop.is_ok()) loop = pump.fatal();
  if (loop.is_ok() && journal != nullptr) loop = journal->error();
  if (loop.is_ok()) loop = f;
  if (loop.is_ok()) loop = s;
  Status saved_now = save();
  if (loop.is_ok()) loop = saved_now;
  if (plan != nullptr && plan->resend_records > 0) {
    // Limitation: the broker answers "duplicate" only for a producer id it
    // still knows (its batches are in the log); one that forgot it (its
    // segments deleted, then a restart) takes a resent batch as new.
    int64_t had = producer.stats().duplicates - dups_before;
    info("of the " + std::to_string(plan->resend_records) + " records resent after the restart the broker already had " +
         std::to_string(had) + (had < plan->resend_records
                                    ? "; the others it had not stored (or it forgot producer id " +
                                          std::to_string(producer.producer_id()) + ": then they are stored twice)"
                                    : ""));
  }
  return loop;
}

}  // namespace kreek::cli
