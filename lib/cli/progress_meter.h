// ProgressMeter: the one-line status a long export shows on a terminal, like
// dd's status=progress: records written, share of the export done, rate, time
// left. It is redrawn in place at most four times a second, and only drawn at
// all when stderr is a terminal and stdout is not (output going to a file or a
// pipe), so scripts, cron jobs and interactive reading never see it.
#pragma once

#include <cstdint>
#include <string>

namespace kreek::cli {

// The status text for `done` of `total` records (total 0: unknown) after
// `elapsed_ms`. Pure, for tests.
std::string format_progress(const std::string& label, int64_t done, int64_t total, int64_t elapsed_ms);

class ProgressMeter {
 public:
  // `enabled` false makes every call a no-op (see should_show_progress).
  ProgressMeter(std::string label, int64_t total, bool enabled);
  ~ProgressMeter();  // erases the line if one is showing
  ProgressMeter(const ProgressMeter&) = delete;
  ProgressMeter& operator=(const ProgressMeter&) = delete;

  // Records written so far; redraws if the last draw is old enough.
  void update(int64_t done);
  // Erases the line so the next diagnostic starts on a clean line.
  void clear();

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  bool showing_ = false;
  int64_t start_ms_;
  int64_t last_draw_ms_ = 0;
};

// True when stderr is a terminal, stdout is not, and the user did not ask for quiet.
bool should_show_progress(bool quiet);

}  // namespace kreek::cli
