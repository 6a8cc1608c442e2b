// ProgressMeter: throttled redraws with "\r" + erase-line on stderr.
#include "cli/progress_meter.h"

#include <unistd.h>

#include <cinttypes>
#include <cstdio>

#include "base/clock.h"

namespace kreek::cli {
namespace {

constexpr int64_t kRedrawMs = 250;

// 1234 -> "1234", 12345 -> "12.3k", 1234567 -> "1.23M".
std::string short_count(double n) {
  char buf[32];
  if (n < 10000) std::snprintf(buf, sizeof buf, "%.0f", n);
  else if (n < 1e6) std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
  else if (n < 1e9) std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
  else std::snprintf(buf, sizeof buf, "%.2fG", n / 1e9);
  return buf;
}

std::string duration(int64_t s) {
  char buf[32];
  if (s < 3600) std::snprintf(buf, sizeof buf, "%" PRId64 ":%02" PRId64, s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%" PRId64 ":%02" PRId64 ":%02" PRId64, s / 3600, s / 60 % 60, s % 60);
  return buf;
}

}  // namespace

std::string format_progress(const std::string& label, int64_t done, int64_t total, int64_t elapsed_ms) {
  std::string out = label + ": " + short_count(double(done));
  double rate = elapsed_ms > 0 ? double(done) * 1000.0 / double(elapsed_ms) : 0;
  if (total > 0) {
    int64_t shown = done < total ? done : total;
    char pct[16];
    std::snprintf(pct, sizeof pct, "%d%%", int(shown * 100 / total));
    out += " of " + short_count(double(total)) + " records (" + pct + ")";
  } else {
    out += " records";
  }
  out += ", " + short_count(rate) + "/s";
  if (total > done && rate > 0) out += ", " + duration(int64_t(double(total - done) / rate)) + " left";
  return out;
}

ProgressMeter::ProgressMeter(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled), start_ms_(clock::monotonic_ms()) {}

ProgressMeter::~ProgressMeter() { clear(); }

void ProgressMeter::update(int64_t done) {
  if (!enabled_) return;
  int64_t now = clock::monotonic_ms();
  // Nothing for the first moments: a short export finishes without a flicker.
  if (now - start_ms_ < kRedrawMs || now - last_draw_ms_ < kRedrawMs) return;
  last_draw_ms_ = now;
  std::string line = "\r" + format_progress(label_, done, total_, now - start_ms_) + "\033[K";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  showing_ = true;
}

void ProgressMeter::clear() {
  if (!showing_) return;
  static const char kErase[] = "\r\033[K";
  (void)!::write(STDERR_FILENO, kErase, sizeof kErase - 1);
  showing_ = false;
}

bool should_show_progress(bool quiet) {
  return !quiet && ::isatty(STDERR_FILENO) == 1 && ::isatty(STDOUT_FILENO) != 1;
}

}  // namespace kreek::cli
