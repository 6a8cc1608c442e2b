// Log lines: UTC timestamp with milliseconds, level, message; one write(2) each
// so lines from different threads never interleave.
#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <string>

#include "base/clock.h"

namespace kreek::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
constexpr std::string_view kNames[] = {"debug", "info", "warn", "error"};
}  // namespace

void set_level(Level l) { g_level = static_cast<int>(l); }
Level level() { return static_cast<Level>(g_level.load()); }
bool enabled(Level l) { return static_cast<int>(l) >= g_level.load(); }

void write(Level l, std::string_view message) {
  if (!enabled(l)) return;
  std::string line = format_iso8601(clock::now_ms());
  line += ' ';
  line += kNames[static_cast<int>(l)];
  line += ' ';
  // Messages quote names and bytes clients chose (topics, request samples):
  // control characters are escaped so they cannot forge lines or drive the
  // terminal of whoever reads the log. Newlines become spaces, as before.
  for (char c : message) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n' || c == '\r') {
      line += ' ';
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      line += buf;
    } else {
      line += c;
    }
  }
  line += '\n';
  // One write: atomic for lines under PIPE_BUF on pipes, and never interleaved mid-line.
  ssize_t r = ::write(STDERR_FILENO, line.data(), line.size());
  (void)r;
}

std::string sample(std::string_view bytes, size_t max) {
  std::string out;
  size_t n = bytes.size() < max ? bytes.size() : max;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (bytes.size() > max) out += "...";
  return out;
}

}  // namespace kreek::log

namespace kreek {
void check_failed(const char* cond, const char* file, int line) {
  log::error(std::string("invariant broken: ") + cond + " at " + file + ":" + std::to_string(line));
  std::abort();
}
}  // namespace kreek
