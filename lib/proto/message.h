// Protocol lines, both directions: the broker builds response lines and reads
// request envelopes; clients build request lines and read responses and fetch
// headers. One implementation so the framing in kreek-protocol(7) lives in one place.
// JSON built here is nlohmann::ordered_json (alias proto::Json): keys stay in
// the order they were added, so responses read like the man page's examples.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/strong_id.h"
#include "proto/json_scan.h"

namespace kreek::proto {

using Json = nlohmann::ordered_json;

// ---- Responses (broker side). Each returns one whole line, '\n' included.
// `id_raw` is the exact JSON text of the request's id (RequestEnvelope::id_raw);
// empty means "null".

// `{"id":<id>,"ok":false,"error":{"code":"UNKNOWN_TOPIC","message":"..."<,extra>}}\n`.
// Members of `extra_error_fields` (an object) are appended after code and message,
// e.g. {"leader":"127.0.0.1:9093"} or {"log_start":0,"log_end":42}.
std::string error_line(std::string_view id_raw, const Status& s,
                       const Json* extra_error_fields = nullptr);
// `{"id":<id>,"ok":true,<members of fields>}\n`; `fields` must be an object (or null).
std::string ok_line(std::string_view id_raw, const Json& fields);
// As ok_line, with the members already serialised (`"partition":0,"base":100`, or
// empty), for hot paths that format a few numbers themselves.
std::string ok_line_raw(std::string_view id_raw, std::string_view members);

// ---- Requests (broker side).
struct RequestEnvelope {
  std::string op;
  std::string_view id_raw = "null";  // view into the scanned line, or "null"
};
// Reads "op" and "id" from a scanned request line. Fills out.id_raw first, so an
// error response can still echo the id. INVALID_REQUEST messages:
// `request must be a JSON object`, `missing "op"`, `"op" must be a string`,
// `"id" must be a string, an integer in int64 range, a boolean or null` (as
// kreek-protocol(7) says: 1e999 or 0.5 are refused, with "id":null).
Status parse_envelope(const JsonScan& scan, RequestEnvelope& out);
// Scans `line` (its '\n' or "\r\n" may be included) into `scan`, then
// parse_envelope. `line` must outlive every use of `scan` and `out`.
Status scan_request(std::string_view line, JsonScan& scan, RequestEnvelope& out,
                    const ScanLimits& limits = {});

// ---- Requests (client side).
// `{"op":"<op>","id":<id>,<members of fields>}\n`.
std::string request_line(std::string_view op, int64_t id, const Json& fields);
// Appends a produce request line carrying `records_json` (encode_records output)
// verbatim, with its CRC-32C: `{"op":"produce","id":..,"topic":..,"partition":..,
// "acks":..,"crc":..,"records":[...]}\n`. No partition: the broker picks (by key or
// round robin). acks: 0, 1 or -1 (all).
void append_produce_request(std::string& out, int64_t id, std::string_view topic,
                            std::optional<PartitionId> partition, int acks,
                            std::string_view records_json);

// ---- Responses (client side).
// Parses one response line: it must be a JSON object with a boolean "ok",
// otherwise kProtocol (`malformed response: ...`).
Result<Json> parse_response(std::string_view line);
// OK for {"ok":true,...}; the error's Status for {"ok":false,"error":{...}}.
Status response_status(const Json& response);
// Maps an error object back to a Status (code_from_name; unknown codes become
// kInternal with the code named in the message). Not an object: kProtocol.
Status status_from_error_json(const Json& error);

// One part of a fetch response header; `bytes` of batch lines follow the header
// line for each part, in order.
struct FetchPart {
  std::string topic;
  int32_t partition = 0;
  int64_t hw = -1;         // -1 when the part carries an error and no hw
  int64_t log_start = -1;  // likewise
  int64_t bytes = 0;
  int64_t next = -1;       // with bytes 0: no record before this offset (compacted), or -1
  Status error;            // OK, or the part's error (OFFSET_OUT_OF_RANGE...)
  Json error_json;         // the error object as sent (log_start/log_end...), or null
};
// Reads the parts of a parsed fetch header line. A failed response returns its
// error; a malformed one kProtocol (`malformed fetch response: ...`).
Result<std::vector<FetchPart>> parse_fetch_header(const Json& response);

}  // namespace kreek::proto
