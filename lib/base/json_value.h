// Checked reads of single JSON values, for every reader of JSON from outside
// the process: requests, answers from other brokers and the coordinator,
// records and files. nlohmann's own accessors are unsafe on such input:
// get<int32_t>() of 1e70 is undefined behaviour, of 2^32 + 5 wraps to 5,
// get<int64_t>() of an unsigned above INT64_MAX wraps negative, and
// value("ok", false) throws when "ok" is a string. These return nothing (or
// the caller's fallback) instead, and each caller words its own error.
// Templates, so that both nlohmann::json and ordered_json are served.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace kreek {

// v as an integer in [lo, hi]; nothing for a float, a number out of range or
// anything not a number.
template <typename Json>
std::optional<int64_t> json_int_in(const Json& v, int64_t lo = std::numeric_limits<int64_t>::min(),
                                   int64_t hi = std::numeric_limits<int64_t>::max()) {
  if (!v.is_number_integer()) return std::nullopt;
  int64_t n = 0;
  if (v.is_number_unsigned()) {
    uint64_t u = v.template get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    n = static_cast<int64_t>(u);
  } else {
    n = v.template get<int64_t>();
  }
  if (n < lo || n > hi) return std::nullopt;
  return n;
}

// j[key] as json_int_in reads it; nothing too when j is not an object or has
// no such key.
template <typename Json>
std::optional<int64_t> json_member_int(const Json& j, const char* key,
                                       int64_t lo = std::numeric_limits<int64_t>::min(),
                                       int64_t hi = std::numeric_limits<int64_t>::max()) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  return json_int_in(*it, lo, hi);
}

// True only when j is an object whose j[key] is the boolean true.
template <typename Json>
bool json_flag(const Json& j, const char* key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->template get<bool>();
}

// j[key] if it is a string; `fallback` when j is not an object, has no such
// key or holds something else there.
template <typename Json>
std::string json_string_or(const Json& j, const char* key, std::string fallback = {}) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fallback;
  return it->template get<std::string>();
}

}  // namespace kreek
