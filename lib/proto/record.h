// Record: the unit users produce and consume, and its JSON form inside a batch.
//   {"key":"k","value":"v","headers":{"h":"x"},"ts":1700000000000}
// Text travels as JSON strings; bytes that are not valid UTF-8 travel base64
// encoded under "key64"/"value64" instead. Every field is optional: no key means
// a null key, no value means a null value (a tombstone for compaction).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "proto/json_scan.h"

namespace kreek::proto {

struct Record {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<int64_t> ts;  // producer's create time, ms since the epoch
};

// Appends the canonical compact JSON object for `r` (fields in the order key,
// value, headers, ts; absent fields omitted; key64/value64 for non-UTF-8 bytes).
void append_record_json(std::string& out, const Record& r);
// Appends "[rec,rec,...]" for `records`: the bytes a produce request carries
// and a batch line stores; its CRC-32C is the batch checksum.
std::string encode_records(const std::vector<Record>& records);

// Validates that array token `arr` of `scan` is a well-formed records array:
// 1..max_records elements, each an object with only the fields above, of the
// right types (key/value: string or null; key64/value64: valid base64; headers:
// object of strings; ts: non-negative integer). Returns the record count.
Result<int32_t> validate_records(const JsonScan& scan, uint32_t arr, int32_t max_records);

// Decodes record object token `obj` into `out`, reusing its strings' capacity
// (no allocation per record in steady state). Checks the shape again, cheaply,
// because clients decode bytes the broker validated long ago: anything off is
// kCorrupt ("record: ..."), never a crash. Unknown fields are skipped.
Status decode_record(const JsonScan& scan, uint32_t obj, Record& out);

// Base64 (RFC 4648, standard alphabet, with padding). Decoding is strict: the
// length must be a multiple of 4, '=' only as 1-2 final characters, no other
// characters (no whitespace), and unused trailing bits must be zero, so every
// byte string has exactly one accepted encoding.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);
// Appends the decoded bytes to `out`; false (with `out` unspecified) if invalid.
bool base64_decode_append(std::string_view text, std::string& out);

}  // namespace kreek::proto
