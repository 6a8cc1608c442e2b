// Segment swap: how a compaction's cleaned segment replaces the segments it was
// made from, by renames whose every prefix leaves a log that start-up can
// finish or roll back (Kafka's .cleaned -> .swap -> final, plus .replaced for
// the merged neighbours). kreek-format(5), "Compaction files", states the rules.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/strong_id.h"

namespace kreek::storage {

inline constexpr std::string_view kCleanedSuffix = ".cleaned";    // written, fsynced, not yet live
inline constexpr std::string_view kSwapSuffix = ".swap";          // the commit: the cleaned log is live
inline constexpr std::string_view kReplacedSuffix = ".replaced";  // a merged neighbour on its way out

// One cleaned segment and the old segments it replaces: `members` are their
// base offsets in order, members[0] == the cleaned segment's base. The cleaned
// files are <base>.log.cleaned, <base>.index.cleaned, <base>.timeindex.cleaned.
struct SegmentSwap {
  std::string dir;
  std::vector<Offset> members;
};

// The steps, in order (each one rename or unlink):
//   1. unlink every member's .index and .timeindex (rebuildable)
//   2. rename members[1..]'s .log to .log.replaced
//   3. rename <base>.log.cleaned to <base>.log.swap          <- commit point
//   4. rename <base>.index.cleaned, <base>.timeindex.cleaned to their final names
//   5. unlink the .log.replaced files
//   6. rename <base>.log.swap over <base>.log
// `max_steps` stops after that many filesystem operations, as a crash would
// (tests); -1 runs them all. Does not fsync: the caller syncs the directory.
Status swap_in_cleaned(const SegmentSwap& swap, int max_steps = -1);

// Number of filesystem operations swap_in_cleaned makes for `swap`.
int swap_step_count(const SegmentSwap& swap);

// Start-up: if a *.log.swap exists the swap was committed and is finished
// (steps 4-6: leftover .replaced files are deleted); otherwise every
// .log.replaced is renamed back and every .cleaned file deleted. Returns a
// line for the log when it did anything, "" otherwise.
Result<std::string> finish_interrupted_swap(const std::string& dir);

}  // namespace kreek::storage
