// The on-disk (and on-the-wire) form of a batch: one JSON line per batch.
//   {"v":1,"base":100,"n":3,"epoch":1,"ts":1700000000000,"crc":3141592653,"records":[...]}\n
// Version 2 is the same line with an idempotent producer's fields after "ts":
//   {"v":2,"base":100,"n":3,"epoch":1,"ts":1700000000000,"pid":7,"pepoch":0,"seq":42,"crc":...,"records":[...]}\n
// A batch without a producer id (pid -1) is written as version 1, so logs of
// producers that are not idempotent stay byte-for-byte what they were.
// The broker writes the prefix up to "records": itself, then the records array
// bytes exactly as the producer sent them, then "}\n" — no re-serialising.
// The producer's checksum is CRC-32C(records); the stored "crc" extends that
// same running CRC over the line's head up to and including the comma before
// "crc" (`{"v":1,"base":B,"n":N,"epoch":E,"ts":T,`, in v2 also
// `"pid":P,"pepoch":PE,"seq":S,`), so every byte that means
// something is covered, yet the broker checksums the records only once (the
// pass that verifies the producer's CRC) plus a few dozen head bytes.
// kreek-format(5) is the reference for this layout.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/strong_id.h"

namespace kreek::storage {

inline constexpr int kBatchFormatVersion = 1;          // batches without a producer id
inline constexpr int kIdempotentBatchFormatVersion = 2;  // batches with pid, pepoch, seq
inline constexpr std::string_view kBatchSuffix = "}\n";
// Longest possible prefix: the v2 keys plus nine numbers of up to 20 digits.
inline constexpr size_t kMaxBatchPrefixBytes = 240;
// Producer ids are non-negative; this one means "not an idempotent batch".
inline constexpr int64_t kNoProducerId = -1;

struct BatchHeader {
  Offset base;          // offset of the first record
  int32_t n = 0;        // record count, >= 1
  LeaderEpoch epoch;    // leader epoch that appended it
  TimestampMs ts;       // broker append time (max of wall clock and the previous batch's ts)
  uint32_t crc = 0;     // batch_crc(CRC-32C(records), head): see above
  // Idempotent producer (v2 only): id, its epoch, and the sequence number of
  // the first record (per partition; wraps from INT32_MAX to 0 like Kafka's).
  int64_t pid = kNoProducerId;
  int16_t pepoch = 0;
  int32_t seq = 0;
  bool is_idempotent() const { return pid >= 0; }
  int version() const { return is_idempotent() ? kIdempotentBatchFormatVersion : kBatchFormatVersion; }
  Offset last() const { return base + (n - 1); }
  Offset next() const { return base + n; }
};

// The continuity rule along a log, in one place: a batch starting at `base`
// (or the next segment, starting at its base offset) may follow a batch whose
// next offset is `prev_next` only if base == prev_next. Compaction, which
// leaves gaps between batches, relaxes it to base >= prev_next in the logs of
// compacted topics (`gaps`); elsewhere a gap is lost data.
inline bool batch_follows(Offset prev_next, Offset base, bool gaps = false) {
  return gaps ? base >= prev_next : base == prev_next;
}

// `{"v":1,"base":B,"n":N,"epoch":E,"ts":T,` (v1, h.pid < 0) or
// `{"v":2,"base":B,"n":N,"epoch":E,"ts":T,"pid":P,"pepoch":PE,"seq":S,` (v2) —
// the part of the prefix the CRC covers.
std::string encode_batch_head(const BatchHeader& h);
// The stored crc: the running CRC-32C of the records (the producer's "crc")
// extended over `head` (encode_batch_head).
uint32_t batch_crc(uint32_t records_crc, std::string_view head);
// The whole prefix: encode_batch_head(h) + `"crc":C,"records":`.
std::string encode_batch_prefix(const BatchHeader& h);

struct ParsedBatch {
  BatchHeader header;
  std::string_view records;  // the records array bytes, '[' .. ']'
  size_t line_bytes = 0;     // bytes of the whole line including its '\n'
};

// Parses one batch line at the start of `bytes` (which may hold more lines after
// it), of either version. Checks framing, the exact key order above, and that
// batch_crc(CRC-32C(records), head) equals crc. Does not validate the records' JSON (the CRC vouches for bytes the
// broker validated before writing them). Errors:
//   kCorrupt  - malformed prefix, missing "}\n", bad CRC, n < 1
//   kNotFound - `bytes` holds no complete line (a torn tail, or simply the end)
Result<ParsedBatch> parse_batch(std::string_view bytes);

// The prefix alone, for scans that only need batch boundaries (the read path,
// index rebuilds): checks the key order and numbers, not the records or CRC.
// `prefix_bytes` is where the records array starts. kNotFound if `bytes` ends
// inside the prefix, kCorrupt if it is malformed.
struct BatchPrefix {
  BatchHeader header;
  size_t head_bytes = 0;    // encode_batch_head's part: bytes [0, head_bytes)
  size_t prefix_bytes = 0;
};
Result<BatchPrefix> parse_batch_prefix(std::string_view bytes);

}  // namespace kreek::storage
