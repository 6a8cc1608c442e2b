// Typed, range-checked reads of request fields, so every handler rejects bad
// input with the same clear INVALID_REQUEST messages ("\"offset\" must be a
// non-negative integer") instead of throwing or asserting. Two flavours: over
// nlohmann::ordered_json (most ops) and over a JsonScan (the produce hot path).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "proto/json_scan.h"

namespace kreek::proto {

// Integer field in [min, max]; absent (or null) leaves `out` empty.
Status read_int(const nlohmann::ordered_json& req, const char* field, int64_t min, int64_t max,
                std::optional<int64_t>& out);
// Required integer field in [min, max].
Status require_int(const nlohmann::ordered_json& req, const char* field, int64_t min, int64_t max,
                   int64_t& out);
// Optional boolean field.
Status read_bool(const nlohmann::ordered_json& req, const char* field, std::optional<bool>& out);
// Required topic name, checked against the Kafka naming rule.
Status require_topic(const nlohmann::ordered_json& req, std::string& out);
// "config" object: values are strings or numbers; null only if `allow_null`
// (alter_topic: null removes an override, passed on as "").
Status read_config(const nlohmann::ordered_json& req, bool allow_null,
                   std::map<std::string, std::string>& out);

// The same over a scanned object token `obj`.
Status scan_int(const proto::JsonScan& scan, uint32_t obj, const char* field, int64_t min,
                int64_t max, std::optional<int64_t>& out);
Status scan_topic(const proto::JsonScan& scan, uint32_t obj, std::string& out);

// "\"offset\" must be a non-negative integer" / "... an integer from 1 to 10000".
std::string int_range_message(const char* field, int64_t min, int64_t max);

}  // namespace kreek::proto
