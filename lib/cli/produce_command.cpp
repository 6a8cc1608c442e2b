// kproduce: large read()s into a reused buffer, split into lines, one record
// per line. Input that can block (a pipe, a terminal) is poll()ed together with
// the broker sockets and the linger deadline, so `tail -F log | kproduce`
// delivers each line within about linger-ms while acks keep flowing. While a
// batch waits to be resent (broker down), no input is read: the writer into
// the pipe blocks instead of kproduce buffering, or dropping, without bound.
// --follow hands over to follow_command.cpp; --receipts settles acks in
// input order through a DeliveryLedger.
#include "cli/produce_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "cli/line_record.h"
#include "cli/line_splitter.h"
#include "client/client.h"

namespace kreek::cli {
namespace {

constexpr size_t kReadBytes = 1 << 20;

class InputPump {
 public:
  InputPump(client::Producer& producer, LineRecordParser& parser)
      : producer_(producer), parser_(parser), buf_(new char[kReadBytes]) {}

  // --receipts: every line is registered in `ledger` (which the producer
  // reports to) and settled receipts go to `receipts` after each service.
  void track(DeliveryLedger* ledger, ReceiptWriter* receipts, const std::vector<std::string>* names) {
    ledger_ = ledger;
    receipts_ = receipts;
    names_ = names;
  }
  Status settle() {
    if (ledger_ == nullptr) return Status::ok();
    size_t n = ledger_->settle([&](const SettledRecord& r) { receipts_->add(r, (*names_)[r.source], false); });
    return n > 0 ? receipts_->flush() : Status::ok();
  }

  // Reads one input to its end (or until a stop request, or until the
  // producer failed for good: producer.fatal()).
  Status run(int fd, const std::string& name, uint32_t source = 0) {
    source_ = source;
    line_no_ = 0;
    struct stat st {};
    bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    LineSplitter splitter;
    auto on_line = [this](std::string_view line) { handle(line); };
    for (;;) {
      // Back-pressure: serve retries and acks, reading nothing, until the
      // waiting batches are delivered or their delivery timeout runs out.
      while (producer_.is_blocked() && producer_.fatal().is_ok() && !client::stop_requested()) {
        KREEK_RETURN_IF_ERROR(producer_.service(-1, -1).status());
        KREEK_RETURN_IF_ERROR(settle());
      }
      if (client::stop_requested() || !producer_.fatal().is_ok()) return Status::ok();
      if (!regular) {
        // Wait for input while serving acks and linger deadlines.
        KREEK_ASSIGN_OR_RETURN(bool ready, producer_.service(-1, fd));
        KREEK_RETURN_IF_ERROR(settle());
        if (!ready) continue;
      }
      ssize_t n = ::read(fd, buf_.get(), kReadBytes);
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_status("read", name, errno);
      }
      if (n == 0) break;
      splitter.feed(std::string_view(buf_.get(), static_cast<size_t>(n)), on_line);
      KREEK_RETURN_IF_ERROR(fatal_);
      // Collect acks that already arrived and send lingering batches.
      if (regular) KREEK_RETURN_IF_ERROR(producer_.service(0, -1).status());
      KREEK_RETURN_IF_ERROR(settle());
    }
    splitter.finish(on_line);
    return fatal_;
  }

 private:
  void handle(std::string_view line) {
    ++line_no_;
    uint64_t tag = ledger_ != nullptr ? ledger_->add(source_, line_no_, 0) : 0;
    Status s = parser_.parse(line, rec_, partition_);
    if (!s.is_ok()) {
      producer_.fail_local(s, tag);
      return;
    }
    Status f = producer_.send(rec_, partition_, tag);
    if (!f.is_ok() && fatal_.is_ok()) fatal_ = f;
  }

  client::Producer& producer_;
  LineRecordParser& parser_;
  std::unique_ptr<char[]> buf_;
  proto::Record rec_;
  std::optional<int32_t> partition_;
  Status fatal_;
  DeliveryLedger* ledger_ = nullptr;
  ReceiptWriter* receipts_ = nullptr;
  const std::vector<std::string>* names_ = nullptr;
  uint32_t source_ = 0;
  int64_t line_no_ = 0;
};

Result<int> parse_acks(const std::string& s) {
  if (s == "0") return 0;
  if (s == "1") return 1;
  if (s == "all" || s == "-1") return -1;
  return usage_error("bad --acks \"" + s + "\": want 0, 1 or all");
}

}  // namespace

void add_produce_flags(CLI::App& app, ProduceConfig& c) {
  add_topic_flag(app, c.topic, "topic to write to (created if missing and allowed)");
  app.add_option("files", c.files, "input files, one record per line ('-' = stdin, the default)")
      ->type_name("FILE");
  app.add_option("-k,--key", c.key, "key for every record")->type_name("KEY");
  app.add_option("-K,--key-separator", c.key_separator,
                 "split each line at the first SEP into key and value")
      ->type_name("SEP");
  app.add_flag("--json", c.json, "each line is a JSON record envelope, as kconsume --json prints");
  app.add_option("-H,--header", c.headers, "NAME=VALUE header on every record (repeatable)")
      ->type_name("NAME=VALUE");
  add_partition_flag(app, c.partition, "write every record to this partition");
  app.add_option("--acks", c.acks, "0, 1 or all (default all: every in-sync replica has it)")->type_name("ACKS");
  app.add_option("--linger-ms", c.linger_ms, "send a batch at most this long after its first record (default 5)")
      ->type_name("MS");
  app.add_option("--batch-bytes", c.batch_bytes, "target batch size in bytes (default 262144)")->type_name("N");
  app.add_option("--max-in-flight", c.max_in_flight,
                 "produce requests outstanding per connection (default 8; at most 5 when idempotent)")
      ->type_name("N");
  app.add_flag("--no-idempotence", c.no_idempotence,
               "send without a producer id: a retried batch may then be written twice");
  app.add_option("--timeout", c.timeout_ms,
                 "give up, exit 75, when a record waits this long for its ack across retries (default 120000)")
      ->type_name("MS");
  add_follow_flags(app, c.follow);
}

Status run_produce(const ProduceConfig& c) {
  set_verbosity(c.common.verbose, c.common.quiet);
  KREEK_ASSIGN_OR_RETURN(int acks, parse_acks(c.acks));
  if (c.key && c.key_separator) return usage_error("-k and -K cannot be used together");
  if (c.json && (c.key || c.key_separator)) return usage_error("--json cannot be combined with -k or -K");
  if (c.key_separator && c.key_separator->empty()) return usage_error("-K needs a non-empty separator");
  if (c.linger_ms < 0 || c.batch_bytes < 1 || c.max_in_flight < 1)
    return usage_error("--linger-ms, --batch-bytes and --max-in-flight must be positive");
  if (c.timeout_ms < 1) return usage_error("--timeout must be positive");
  KREEK_RETURN_IF_ERROR(check_follow_flags(c.follow, c.files, acks));
  std::optional<FollowState> saved;
  if (c.follow.follow) {
    KREEK_ASSIGN_OR_RETURN(saved, load_state_for(c.follow, c.topic));
  }
  LineFormat format;
  format.key = c.key;
  format.separator = c.key_separator;
  format.json = c.json;
  for (const auto& h : c.headers) {
    size_t eq = h.find('=');
    if (eq == std::string::npos || eq == 0) return usage_error("bad --header \"" + h + "\": want NAME=VALUE");
    format.headers.emplace_back(h.substr(0, eq), h.substr(eq + 1));
  }
  // Open every file first, so a typo fails before anything is sent.
  std::vector<std::pair<int, std::string>> inputs;
  std::vector<std::string> files = c.files.empty() ? std::vector<std::string>{"-"} : c.files;
  if (c.follow.follow) files.clear();  // names and globs for the follower, opened there
  // Receipts name the input when it is a file (index = source number).
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(f == "-" ? std::string() : f);
  Status open_error;
  for (const auto& f : files) {
    if (f == "-") {
      inputs.emplace_back(STDIN_FILENO, "stdin");
      continue;
    }
    int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      open_error = errno_status("open", f, errno);
      break;
    }
    inputs.emplace_back(fd, f);
  }
  auto close_inputs = [&] {
    for (auto& [fd, name] : inputs)
      if (fd != STDIN_FILENO) ::close(fd);
  };
  if (!open_error.is_ok()) {
    close_inputs();
    return open_error;
  }

  ReceiptWriter receipts;
  if (!c.follow.receipts.empty()) open_error = receipts.open(c.follow.receipts, c.topic);
  if (!open_error.is_ok()) {
    close_inputs();
    return open_error;
  }
  auto cluster = connect(c.common);
  if (!cluster.is_ok()) {
    close_inputs();
    return cluster.status();
  }
  DeliveryLedger ledger;
  const bool tracked = c.follow.follow || receipts.is_open();
  client::ProducerOptions popts;
  popts.topic = c.topic;
  popts.acks = acks;
  popts.linger_ms = c.linger_ms;
  popts.batch_bytes = c.batch_bytes;
  popts.max_in_flight = c.max_in_flight;
  popts.idempotent = !c.no_idempotence;
  popts.partition = c.partition;
  popts.delivery_timeout_ms = c.timeout_ms;
  popts.on_waiting = [](const std::string& m) { notice(m); };
  popts.on_recovered = [] { notice("delivering again"); };
  if (tracked) popts.on_delivery = [&ledger](const client::Delivery& d) { ledger.on_delivery(d); };
  FollowResume resume;
  if (c.follow.follow) resume = prepare_follow(c.follow, saved, popts, ledger);
  client::Producer producer(**cluster, popts);
  Status s = producer.start();
  if (!s.is_ok()) {
    close_inputs();
    return s;
  }
  if (popts.idempotent && acks != 0 && !producer.is_idempotent())
    warn("no producer id (" + producer.idempotence_error().message() +
           "): sending without idempotence, a resent batch may be stored twice");
  // From here SIGINT stops reading input, and acks of what was sent are still
  // collected. Before, nothing has been sent, so a signal just ends the wait
  // for a broker (exit 128 + signal).
  client::set_stop_aborts_io(false);
  LineRecordParser parser(format);
  if (c.follow.follow) {
    s = run_follow(c.follow, c.files, c.topic, saved, resume, producer, parser, ledger, receipts);
  } else {
    InputPump pump(producer, parser);
    if (tracked) pump.track(&ledger, &receipts, &names);
    for (uint32_t i = 0; i < inputs.size(); ++i) {
      s = pump.run(inputs[i].first, inputs[i].second, i);
      if (!s.is_ok() || client::stop_requested() || !producer.fatal().is_ok()) break;
    }
    close_inputs();
    Status f = producer.flush();
    if (s.is_ok()) s = f;
    f = pump.settle();
    if (s.is_ok()) s = f;
  }
  if (!s.is_ok()) return s;

  const client::ProduceStats& st = producer.stats();
  info("acknowledged " + std::to_string(st.acked) + " of " + std::to_string(st.records) + " records");
  if (st.unacknowledged() > 0) {
    // An expired delivery timeout is the reason that ended the run (exit 75),
    // even when a record was rejected before it.
    Status why = !producer.fatal().is_ok() ? producer.fatal()
                 : st.first_error.is_ok()  ? Status(Code::kInternal, "unknown reason")
                                           : st.first_error;
    return Status(why.code(), std::to_string(st.unacknowledged()) + " of " + std::to_string(st.records) +
                                  " records not acknowledged: " + why.message());
  }
  return Status::ok();
}

}  // namespace kreek::cli
