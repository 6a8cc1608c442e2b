// kproduce --follow FILE...: ship log files like `tail -F FILE | kproduce`,
// but knowing what was acknowledged. Lines of the followed files become
// records; with --state the acknowledged position of every file is saved, so
// a restart, a crash or a broker failover resumes without losing a line.
// Also the flags of --receipts, which plain kproduce runs take too.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "cli/delivery_ledger.h"
#include "cli/follow_replay.h"
#include "cli/follow_state.h"
#include "cli/inflight_journal.h"
#include "cli/line_record.h"
#include "cli/receipt_writer.h"
#include "client/producer.h"

namespace kreek::cli {

struct FollowConfig {
  bool follow = false;             // --follow: the positional FILEs are names or globs to follow
  std::string state_path;          // --state FILE
  int64_t state_interval_ms = 1000;  // --state-interval-ms (0: after every acknowledgement)
  int64_t poll_interval_ms = 1000;   // --poll-interval-ms: rescan names and globs
  int64_t partial_wait_ms = 5000;    // --partial-wait-ms
  int64_t rotate_wait_ms = 5000;     // --rotate-wait-ms
  std::string read_from = "beginning";  // --read-from beginning|end, for files never seen before
  bool source_headers = false;     // --source-headers: "file" and "host" headers
  std::string receipts;            // --receipts FILE|- (not only with --follow)
};

void add_follow_flags(CLI::App& app, FollowConfig& cfg);
// Usage checks of the follow flags against the rest; `acks` is parsed.
Status check_follow_flags(const FollowConfig& cfg, const std::vector<std::string>& files, int acks);
// Reads --state (nullopt: no --state or no file yet) and checks it is for `topic`.
Result<std::optional<FollowState>> load_state_for(const FollowConfig& cfg, const std::string& topic);

// With --state and an idempotent producer: the journal FILE.inflight and,
// after a restart, the plan to resend what it says was in flight.
struct FollowResume {
  std::optional<ResumePlan> plan;
  std::unique_ptr<InflightJournal> journal;
};
// Before the producer is made: plans the resume (the producer then takes
// over the journal's producer id and sequence numbers) and hooks the journal
// into the producer's options and the ledger.
FollowResume prepare_follow(const FollowConfig& cfg, const std::optional<FollowState>& saved,
                            client::ProducerOptions& popts, DeliveryLedger& ledger);

// Follows until SIGINT/SIGTERM or until the producer fails for good, then
// flushes, waits for every ack and saves the state a last time. The ledger
// must be the one the producer reports deliveries to; `receipts` may be closed.
Status run_follow(const FollowConfig& cfg, const std::vector<std::string>& patterns, const std::string& topic,
                  const std::optional<FollowState>& saved, FollowResume& resume, client::Producer& producer,
                  LineRecordParser& parser, DeliveryLedger& ledger, ReceiptWriter& receipts);

}  // namespace kreek::cli
