// Consumer: reads partitions of one or more topics from given offsets (a
// cursor names its topic; "" means ConsumerOptions::topic). Each poll() sends one
// multi-part fetch to every leader that holds an unfinished partition (all
// written before any answer is read, so brokers work in parallel), decodes
// the batch lines that come back (checking each batch's CRC), skips records
// below the position asked for, and hands records to a sink in offset order
// per partition. Positions advance as records are delivered, so what a caller
// checkpoints after a stop is exactly what it has seen. Single-threaded.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "client/cluster.h"
#include "client/outage.h"
#include "proto/batch_decoder.h"
#include "proto/message.h"
#include "proto/record.h"

namespace kreek::client {

// Where a partition stands, as list_offsets reports it.
struct PartitionOffsets {
  int32_t partition = 0;
  int64_t offset = 0;  // the answer to the query (earliest, latest, first at a time)
  int64_t log_start = 0;
  int64_t log_end = 0;
};

// What to do when a position falls outside the log (retention moved log start).
enum class ResetPolicy { kNone, kEarliest, kLatest };

// "logs/0: offset 500 is out of range [0, 120]": the valid positions run from
// the log start to the log end, which is included (reading there waits for the
// next record).
std::string out_of_range_message(std::string_view topic, int32_t partition, int64_t offset,
                                 int64_t log_start, int64_t log_end);
// Where `policy` moves an out-of-range position (kNone leaves it).
int64_t reset_position(ResetPolicy policy, int64_t offset, int64_t log_start, int64_t log_end);

struct ConsumerOptions {
  std::string topic;  // the topic of cursors that name none
  int64_t max_bytes = 4 << 20;  // per fetch, across its parts
  int max_wait_ms = 500;        // long poll while nothing is new
  ResetPolicy reset = ResetPolicy::kNone;
  // Told about resets ("logs/0: offset 5 is out of range [42, 120], reset to 42").
  std::function<void(const std::string&)> on_notice;
  // Follow mode (kconsume -f): an unreachable broker or a missing leader is
  // waited out for as long as the consumer runs (backoff capped at
  // ClientOptions::retry_backoff_max_ms), instead of failing after max_retries.
  bool wait_for_brokers = false;
  // Otherwise failures are retried for at least this long before the read
  // fails, even past max_retries: kconsume sets it so that a leader's
  // failover (the coordinator's 3 s session, the election, new metadata)
  // does not end a bounded read.
  int64_t ride_out_ms = 0;
  // Told once when such a wait starts ("waiting for broker 127.0.0.1:9092
  // (Connection refused)") and once when a fetch succeeds again.
  std::function<void(const std::string&)> on_waiting;
  std::function<void()> on_recovered;
};

struct Cursor {
  int32_t partition = 0;
  int64_t next = 0;   // next offset to deliver
  int64_t stop = -1;  // deliver offsets < stop only; -1 = no end (follow)
  std::string topic;  // "" = ConsumerOptions::topic (consumer groups read several)
  bool done() const { return stop >= 0 && next >= stop; }
};

// One delivered record. Views are valid during the sink call only.
struct ConsumedRecord {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = 0;  // the record's ts if it has one, else the batch append time
  const proto::Record* record = nullptr;
};

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Returns false to stop consuming (e.g. a -c count was reached).
  virtual bool on_record(const ConsumedRecord& r) = 0;
};

class Consumer {
 public:
  // `cluster` must outlive the consumer.
  Consumer(Cluster& cluster, ConsumerOptions options);

  // Partition count of the topic (no auto-creation). UNKNOWN_TOPIC if missing.
  Result<int32_t> partition_count();
  // list_offsets for `partitions` (empty = all); `at` is "earliest", "latest",
  // or a unix-ms timestamp as a decimal string.
  Result<std::vector<PartitionOffsets>> list_offsets(const std::vector<int32_t>& partitions,
                                                     const std::string& at);
  // The same for another topic (consumer groups). A leader that cannot be
  // reached or has moved is retried with fresh metadata, as fetches are.
  Result<std::vector<PartitionOffsets>> list_offsets(const std::string& topic,
                                                     const std::vector<int32_t>& partitions,
                                                     const std::string& at);

  void assign(std::vector<Cursor> cursors) { cursors_ = std::move(cursors); }
  // The long poll of later fetches (a group member shortens it while a join is parked).
  void set_max_wait_ms(int ms) { options_.max_wait_ms = ms; }
  const ConsumerOptions& options() const { return options_; }
  const std::vector<Cursor>& cursors() const { return cursors_; }
  bool all_done() const;

  // One fetch round. Returns early (OK) when the sink asks to stop; `stopped`
  // then says so. Errors: OFFSET_OUT_OF_RANGE (without a reset policy),
  // UNKNOWN_TOPIC, CORRUPT_RECORD, UNAVAILABLE once reconnects are exhausted
  // (never with wait_for_brokers), PROTOCOL_ERROR for a reply that breaks the
  // protocol (including a fetch announcing more bytes than max_bytes allows).
  Status poll(RecordSink& sink, bool& stopped);

 private:
  struct Request;
  // A round writes every leader's fetch, then reads the answers in turn.
  Status send_fetch(const std::string& addr, const std::vector<size_t>& cursor_idx);
  Status read_fetch(const std::string& addr, std::vector<size_t>& cursor_idx, RecordSink& sink,
                    bool& stopped);
  Status deliver(Cursor& c, std::string_view payload, RecordSink& sink, bool& stopped);
  Status handle_part_error(Cursor& c, const Status& error, const proto::Json& error_json);
  Status note_failure(const std::string& addr, const Status& s);
  const std::string& topic_of(const Cursor& c) const { return c.topic.empty() ? options_.topic : c.topic; }

  Cluster& cluster_;
  ConsumerOptions options_;
  std::vector<Cursor> cursors_;
  proto::BatchDecoder decoder_;
  std::string request_;   // reused request line
  size_t rotate_ = 0;     // rotates which partition goes first in a fetch, for fairness
  int failures_ = 0;      // consecutive failed rounds, for backoff and giving up
  int64_t failing_since_ms_ = 0;  // when the first of them failed
  // Called on each retriable failure: the first of a run stamps
  // failing_since_ms_; says whether the run has now lasted long enough
  // (max_retries failures and ride_out_ms) to give up.
  bool give_up_on_failure();
  // One round of list_offsets; `refresh` first reloads the topic's metadata.
  Result<std::vector<PartitionOffsets>> list_offsets_once(const std::string& topic,
                                                          const std::vector<int32_t>& partitions,
                                                          const std::string& at, bool refresh);
  OutageNotice outage_;
  bool refresh_ = false;  // refresh metadata before the next round
};

}  // namespace kreek::client
