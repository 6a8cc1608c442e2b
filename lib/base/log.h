// Diagnostics: one line per event on stderr, "2025-01-02T03:04:05.678Z info message".
// Servers log with a timestamp; CLI tools use cli/ for "kconsume: error: ..." lines.
#pragma once

#include <string>
#include <string_view>

namespace kreek::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_level(Level level);
Level level();
bool enabled(Level level);
// Writes one line; newlines inside `message` become spaces so a line stays a
// line, and other control characters are escaped (\xNN).
void write(Level level, std::string_view message);

inline void debug(std::string_view m) { if (enabled(Level::kDebug)) write(Level::kDebug, m); }
inline void info(std::string_view m) { write(Level::kInfo, m); }
inline void warn(std::string_view m) { write(Level::kWarn, m); }
inline void error(std::string_view m) { write(Level::kError, m); }

// Up to `max` bytes of untrusted input with non-printable bytes escaped (\xNN),
// for quoting bad requests in warnings without flooding the log.
std::string sample(std::string_view bytes, size_t max = 128);

}  // namespace kreek::log
