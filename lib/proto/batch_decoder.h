// BatchDecoder: reads the records out of one stored batch line, as fetch
// returns it, for consumers (kconsume's hot path). It validates the whole line,
// checks the stored CRC-32C (records, then the head), and hands out one record at a time,
// reusing its scanner and Record so steady-state decoding does not allocate.
// The batch line format is kreek-format(5) / lib/storage/batch_format.h; proto
// re-reads it here because clients may not depend on storage.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "base/strong_id.h"
#include "proto/json_scan.h"
#include "proto/record.h"

namespace kreek::proto {

// The header fields of a batch line.
struct BatchMeta {
  Offset base;        // offset of the first record
  int32_t n = 0;      // record count
  LeaderEpoch epoch;  // leader epoch that appended it
  TimestampMs ts;     // broker append time
  uint32_t crc = 0;   // CRC-32C of the records array bytes extended over the head
  int64_t pid = -1;   // v2: the idempotent producer's id; -1 in v1 batches
  int16_t pepoch = 0; // v2: its producer epoch
  int32_t seq = 0;    // v2: sequence number of the first record
};

// Usage:
//   BatchDecoder dec;
//   KREEK_RETURN_IF_ERROR(dec.reset(line));
//   while (dec.next()) use(dec.offset(), dec.record(), dec.batch().ts);
//   KREEK_RETURN_IF_ERROR(dec.status());
// Not thread-safe; one per consumer thread.
class BatchDecoder {
 public:
  // Parses one batch line (its trailing '\n' may be included). `line` must
  // outlive the iteration. kCorrupt (`corrupt batch at offset B: ...`) if the
  // line is not valid JSON, lacks or mistypes a field, has v other than 1 or 2, n different
  // from the number of records, or a CRC that does not match.
  Status reset(std::string_view line);
  const BatchMeta& batch() const { return meta_; }

  // Decodes the next record into record(); false at the end of the batch or on
  // a malformed record (then status() says kCorrupt).
  bool next();
  const Status& status() const { return status_; }
  // The record just decoded by next(), and its offset (base + index).
  const Record& record() const { return record_; }
  Offset offset() const { return meta_.base + (index_ - 1); }

 private:
  JsonScan scan_;
  Record record_;
  BatchMeta meta_;
  Status status_;
  uint32_t next_token_ = 0;  // token of the next record object
  int32_t index_ = 0;        // records decoded so far
};

// Splits the first '\n'-terminated line off `bytes` (a fetch part's payload):
// `line` gets it including its '\n', `bytes` keeps the rest. False when `bytes`
// holds no complete line (empty, or a torn tail).
bool take_line(std::string_view& bytes, std::string_view& line);

}  // namespace kreek::proto
