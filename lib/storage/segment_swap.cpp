// Segment swap: the renames that put a cleaned segment in place, and the
// start-up pass that finishes or rolls back a swap a crash interrupted.
#include "storage/segment_swap.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <functional>

#include "base/atomic_file.h"
#include "storage/segment.h"

namespace kreek::storage {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Status do_unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_status("unlink", path, errno);
  return Status::ok();
}

Status do_rename(const std::string& from, const std::string& to, bool missing_ok) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    if (missing_ok && errno == ENOENT) return Status::ok();
    return errno_status("rename", from, errno);
  }
  return Status::ok();
}

// Runs the swap's operations in order through `op`, which may stop early.
Status for_each_step(const SegmentSwap& s, const std::function<bool(std::function<Status()>)>& op) {
  const std::string& dir = s.dir;
  Offset base = s.members.front();
  auto path = [&](Offset b, std::string_view ext) { return segment_path(dir, b, ext); };
  std::vector<std::function<Status()>> steps;
  for (Offset m : s.members) {
    steps.push_back([=] { return do_unlink(path(m, ".index")); });
    steps.push_back([=] { return do_unlink(path(m, ".timeindex")); });
  }
  for (size_t i = 1; i < s.members.size(); ++i) {
    Offset m = s.members[i];
    steps.push_back([=] {
      return do_rename(path(m, ".log"), path(m, ".log") + std::string(kReplacedSuffix), false);
    });
  }
  std::string cleaned(kCleanedSuffix), swap(kSwapSuffix), replaced(kReplacedSuffix);
  steps.push_back([=] { return do_rename(path(base, ".log") + cleaned, path(base, ".log") + swap, false); });
  for (std::string_view ext : {".index", ".timeindex"})
    steps.push_back([=] { return do_rename(path(base, ext) + cleaned, path(base, ext), false); });
  for (size_t i = 1; i < s.members.size(); ++i) {
    Offset m = s.members[i];
    steps.push_back([=] { return do_unlink(path(m, ".log") + replaced); });
  }
  steps.push_back([=] { return do_rename(path(base, ".log") + swap, path(base, ".log"), false); });
  for (auto& step : steps)
    if (!op(step)) break;
  return Status::ok();
}

}  // namespace

int swap_step_count(const SegmentSwap& swap) {
  int n = 0;
  (void)for_each_step(swap, [&](const std::function<Status()>&) {
    ++n;
    return true;
  });
  return n;
}

Status swap_in_cleaned(const SegmentSwap& swap, int max_steps) {
  Status result;
  int done = 0;
  (void)for_each_step(swap, [&](const std::function<Status()>& step) {
    if (max_steps >= 0 && done >= max_steps) return false;
    result = step();
    ++done;
    return result.is_ok();
  });
  return result;
}

Result<std::string> finish_interrupted_swap(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errno_status("open", dir, errno);
  std::vector<std::string> swaps, replaced, cleaned;
  while (struct dirent* e = ::readdir(d)) {
    std::string name(e->d_name);
    if (ends_with(name, std::string(".log") + std::string(kSwapSuffix))) {
      swaps.push_back(name);
    } else if (ends_with(name, kReplacedSuffix)) {
      replaced.push_back(name);
    } else if (ends_with(name, kCleanedSuffix)) {
      cleaned.push_back(name);
    }
  }
  ::closedir(d);
  if (swaps.empty() && replaced.empty() && cleaned.empty()) return std::string();
  auto full = [&](const std::string& name) { return dir + "/" + name; };
  auto strip = [](const std::string& name, std::string_view suffix) {
    return name.substr(0, name.size() - suffix.size());
  };
  std::string note;
  if (!swaps.empty()) {
    // Committed: the cleaned log replaces its members. Only one swap is ever
    // in flight per partition, so every .replaced file is one of its members.
    for (const auto& r : replaced) KREEK_RETURN_IF_ERROR(do_unlink(full(r)));
    for (const auto& s : swaps) {
      std::string log_name = strip(s, kSwapSuffix);                 // <base>.log
      std::string stem = log_name.substr(0, log_name.size() - 4);   // <base>
      for (std::string_view ext : {".index", ".timeindex"}) {
        std::string c = stem + std::string(ext) + std::string(kCleanedSuffix);
        KREEK_RETURN_IF_ERROR(do_rename(full(c), full(stem + std::string(ext)), true));
      }
      KREEK_RETURN_IF_ERROR(do_rename(full(s), full(log_name), false));
      note += (note.empty() ? "" : ", ") + log_name;
    }
    note = "finished an interrupted compaction swap (" + note + ")";
  } else {
    for (const auto& r : replaced)
      KREEK_RETURN_IF_ERROR(do_rename(full(r), full(strip(r, kReplacedSuffix)), false));
    note = "rolled back an interrupted compaction (" + std::to_string(replaced.size()) +
           " segment(s) restored)";
  }
  // Cleaned files the swap did not reach belong to no live segment.
  for (const auto& c : cleaned) KREEK_RETURN_IF_ERROR(do_unlink(full(c)));
  KREEK_RETURN_IF_ERROR(sync_dir(dir));
  return note;
}

}  // namespace kreek::storage
