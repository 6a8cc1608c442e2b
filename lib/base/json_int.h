// A JSON value read as an integer in [lo, hi], or nothing: the check every
// reader of JSON from outside (requests, records, files) makes before it
// narrows a number. nlohmann's own get<int32_t>() of 1e70 is undefined
// behaviour, of 2^32 + 5 wraps to 5, and get<int64_t>() of an unsigned above
// INT64_MAX wraps negative; here floats, numbers out of range and anything
// not a number all come back empty, and each caller words its own error.
// A template so that both nlohmann::json and ordered_json are served.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>

namespace kreek {

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

}  // namespace kreek
