// kproduce --follow --state FILE: per followed file (device, inode), how far
// its lines were acknowledged, so a restart resumes where delivery stopped
// (Filebeat's registry, Fluent Bit's tail DB). One small JSON object:
//   {"version":1,"topic":"logs","files":[{"dev":2049,"ino":131,"path":"/var/log/app.log","pos":4096,"line":80}]}
// Replaced atomically after every acknowledgement (rename, no fsync: enough
// to survive a crash of kproduce) and durably (base/atomic_file: fsync too,
// to survive a power loss) at an interval and at exit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kreek::cli {

inline constexpr int kFollowStateVersion = 1;

struct FileProgress {
  uint64_t dev = 0;
  uint64_t ino = 0;
  std::string path;  // the name it was followed by, to find it again after a rename
  int64_t pos = 0;   // bytes acknowledged: the next line starts here
  int64_t line = 0;  // lines acknowledged (the next line's number is line + 1)
};

struct FollowState {
  std::string topic;
  std::vector<FileProgress> files;

  const FileProgress* find(uint64_t dev, uint64_t ino) const;
};

std::string encode_follow_state(const FollowState& state);
// Errors: kCorrupt "state FILE: why" for anything but what encode wrote
// (unknown version, missing or negative fields, duplicate files).
Result<FollowState> decode_follow_state(std::string_view text, const std::string& path);

// nullopt if the file does not exist.
Result<std::optional<FollowState>> load_follow_state(const std::string& path);
// durable: temp file, fsync, rename, fsync of the directory. Otherwise only
// write "<path>.tmp" and rename it over path: the old or the new state
// survives a crash of the process (the page cache keeps both), not of the OS.
Status save_follow_state(const std::string& path, const FollowState& state, bool durable = true);

}  // namespace kreek::cli
