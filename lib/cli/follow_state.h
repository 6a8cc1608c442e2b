// kproduce --follow --state FILE: per followed file (device, inode), how far
// its lines were acknowledged, so a restart resumes where delivery stopped
// (Filebeat's registry, Fluent Bit's tail DB). One small JSON object:
//   {"version":1,"topic":"logs","seq":7,"pid":12,"pepoch":0,
//    "files":[{"dev":2049,"ino":131,"path":"/var/log/app.log","pos":4096,"line":80}]}
// "pid"/"pepoch" (optional): the idempotent producer whose batches
// FILE.inflight journals (follow_journal.h); a restart takes them over.
// Two copies: FILE, replaced atomically and durably (base/atomic_file) at an
// interval and at exit, and FILE.live, overwritten in place after every
// acknowledgement. Loading takes the valid one with the higher seq.
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
  uint64_t seq = 0;  // bumped by every save; absent (0) in hand-written files
  int64_t pid = -1;  // the producer id of FILE.inflight; -1: none (not idempotent, or an older state)
  int16_t pepoch = 0;
  std::vector<FileProgress> files;

  const FileProgress* find(uint64_t dev, uint64_t ino) const;
};

std::string encode_follow_state(const FollowState& state);
// Errors: kCorrupt "state FILE: why" for anything but what encode wrote
// (unknown version, missing or negative fields, duplicate files).
Result<FollowState> decode_follow_state(std::string_view text, const std::string& path);

// Of `path` and `path`.live, the one that decodes and has the higher seq (a
// .live torn by a power loss loses to the fsynced file); nullopt if neither
// exists. No `path` means no state (removing it starts afresh). An error only
// if `path` is damaged and .live does not stand in.
Result<std::optional<FollowState>> load_follow_state(const std::string& path);
// Durable: temp file, fsync, rename, fsync of the directory.
Status save_follow_state(const std::string& path, const FollowState& state);

// Saves the state of one kproduce --follow run, numbering the saves.
class StateWriter {
 public:
  // `first_seq`: the loaded state's seq, so new saves win over it.
  StateWriter(std::string path, uint64_t first_seq);
  ~StateWriter();
  StateWriter(const StateWriter&) = delete;
  StateWriter& operator=(const StateWriter&) = delete;
  // After every acknowledgement: one pwrite() of the whole text at offset 0
  // of FILE.live, padded with spaces over a longer old text, not fsynced.
  // No rename, no truncation: no file-system metadata to wait for (a rename
  // per ack took up to 10 ms on a busy disk). A process killed meanwhile
  // leaves the old or the new text (a write into the page cache is not torn
  // by a signal below a page); if it were torn anyway, loading falls back
  // to FILE, which only resends more.
  Status save_quick(FollowState& state);
  // At an interval and at exit: FILE, atomically and fsynced.
  Status save_durable(FollowState& state);

 private:
  std::string path_;
  uint64_t seq_;
  int live_fd_ = -1;
  size_t live_len_ = 0;
};

}  // namespace kreek::cli
