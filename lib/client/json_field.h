// Checked reads of integers from a broker's JSON answers. An answer is input
// like any other: a field of the wrong type ("log_start":"x") or one that does
// not fit ("leader":1e300) becomes a PROTOCOL_ERROR Status, never an uncaught
// nlohmann exception or an undefined float-to-integer conversion.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/status.h"
#include "proto/message.h"

namespace kreek::client {

// The integer j[key] if it is a JSON integer in [lo, hi]. An absent key (or
// j not an object) gives `fallback`, or an error when there is none. Errors:
// kProtocol `malformed <what>: "key" is not an integer in [lo, hi]`.
Result<int64_t> int_field(const proto::Json& j, std::string_view what, const char* key, int64_t lo,
                          int64_t hi, std::optional<int64_t> fallback = std::nullopt);

}  // namespace kreek::client
