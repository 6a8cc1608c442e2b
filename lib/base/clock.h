// Wall and monotonic clocks in milliseconds, and ISO 8601 formatting/parsing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kreek {

namespace clock {
int64_t now_ms();        // wall clock, ms since the Unix epoch
int64_t monotonic_ms();  // for timeouts and intervals; never jumps
int64_t monotonic_us();
}  // namespace clock

// "2025-01-02T03:04:05.678Z"
std::string format_iso8601(int64_t unix_ms);
// Accepts "2025-01-02", "2025-01-02T03:04", "2025-01-02T03:04:05[.fff]" with an
// optional "Z" or "+hh:mm"/"-hh:mm" (no zone means UTC). Returns ms since the epoch.
std::optional<int64_t> parse_iso8601(std::string_view text);
// "250ms", "15s", "15m", "2h", "7d" -> milliseconds; a bare number is ms.
std::optional<int64_t> parse_duration_ms(std::string_view text);

}  // namespace kreek
