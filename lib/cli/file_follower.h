// FileFollower: follows files by name like `tail -F`, for kproduce --follow.
// Files are known by (device, inode), not by name: a file renamed away
// (rotation by rename) is read to its end and closed once it stopped growing
// for rotate_wait_ms, while the new file under the name is read from its
// start; a file that shrinks below the read position (copytruncate) is read
// again from 0; a new file matching a glob is picked up at the next rescan
// (at once where inotify reports the directory change). Lines come with the
// byte position just after them, which is what the --state file remembers.
// Single-threaded; no libuv: the owner polls wait_fd() with its other fds.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cli/follow_state.h"

namespace kreek::cli {

struct FollowOptions {
  std::vector<std::string> patterns;  // file names or glob(7) patterns
  // Files found at start that the state does not know: from their end (like
  // tail -F and Fluent Bit's default) instead of their beginning (Filebeat's).
  // Files that appear later are always read from their beginning.
  bool start_at_end = false;
  int64_t partial_wait_ms = 5000;  // a line without '\n' is held this long, then sent as is
  int64_t rotate_wait_ms = 5000;   // a renamed-away or removed file is read until idle this long
};

// Where lines go. Called from FileFollower::read().
class FollowSink {
 public:
  virtual ~FollowSink() = default;
  // One line without its '\n' (or a partial line whose wait ran out).
  // `line_no` counts from 1 at the file's start; `end_pos` is the byte
  // offset just after the line.
  virtual void on_line(uint32_t file, std::string_view line, int64_t line_no, int64_t end_pos) = 0;
  // The file shrank (copytruncate): reading restarts at `pos` (0).
  virtual void on_reset(uint32_t file, int64_t pos) = 0;
};

class FileFollower {
 public:
  explicit FileFollower(FollowOptions options);
  ~FileFollower();
  FileFollower(const FileFollower&) = delete;
  FileFollower& operator=(const FileFollower&) = delete;

  // Expands the patterns and opens each file at its saved position (`saved`
  // may be null), else at its start or end per options. A saved file no
  // pattern names any more (renamed while kproduce was down) is looked for
  // by inode in its old directory and finished. A name that does not exist
  // yet is waited for (like tail -F); fails only if a name cannot be
  // checked at all (a directory that cannot be read).
  Status start(const FollowState* saved, int64_t now_ms);
  // Gives a number to a file that is not followed (finished before a
  // restart) whose lines a restart resends from elsewhere; it stays closed.
  uint32_t add_closed(const std::string& path, uint64_t dev, uint64_t ino, int64_t pos, int64_t line);
  // Re-expands the patterns and re-checks every name (see the top).
  void rescan(int64_t now_ms);
  // Reads what is new, up to about max_bytes, handing lines to `sink`.
  // Returns the bytes read (0: every file is at its end).
  Result<int64_t> read(int64_t now_ms, int64_t max_bytes, FollowSink& sink);
  // The next time read() has work without new input: a held partial line
  // whose wait ends, a rotated file to close. -1: none.
  int64_t next_deadline() const;

  // inotify descriptor to poll (-1: unavailable, poll by interval instead).
  int wait_fd() const { return inotify_fd_; }
  // Consumes inotify events; true if a name may have changed (rescan now).
  bool drain_events();

  // Every file ever followed has a number (its index, never reused).
  uint32_t file_count() const { return static_cast<uint32_t>(files_.size()); }
  const std::string& path(uint32_t file) const { return files_[file]->path; }
  uint64_t dev(uint32_t file) const { return files_[file]->dev; }
  uint64_t ino(uint32_t file) const { return files_[file]->ino; }
  bool is_open(uint32_t file) const { return files_[file]->fd >= 0; }
  // Where reading began: the position (and lines before it) it was opened at.
  int64_t start_pos(uint32_t file) const { return files_[file]->start_pos; }
  int64_t start_line(uint32_t file) const { return files_[file]->start_line; }
  size_t open_count() const;

  // Lifecycle notices ("following app.log", "app.log: truncated, reading it
  // again from the start"), for -v.
  std::function<void(const std::string&)> on_notice;

 private:
  struct File {
    std::string path;  // the name it was found by (kept after a rename)
    uint64_t dev = 0;
    uint64_t ino = 0;
    int fd = -1;
    int wd = -1;       // inotify watch
    int64_t pos = 0;   // next byte to read
    int64_t line = 0;  // lines handed out
    std::string carry;  // bytes of a line without its '\n' yet
    int64_t carry_since = -1;
    bool rotated = false;  // no pattern names it any more
    int64_t idle_since = 0;
    int64_t start_pos = 0;
    int64_t start_line = 0;
  };

  // Opens `path` at `pos` (clamped: a file shorter than pos starts at 0).
  void open_file(const std::string& path, int64_t now_ms, const FollowState* saved, bool at_start, bool rotated);
  void close_file(File& f);
  void notice(const std::string& m) const;
  void emit(File& f, uint32_t idx, std::string_view line, int64_t end_pos, FollowSink& sink);
  void flush_carry(File& f, uint32_t idx, FollowSink& sink);
  void watch_dir(const std::string& pattern);
  std::vector<std::string> expand() const;

  FollowOptions options_;
  std::vector<std::unique_ptr<File>> files_;
  std::vector<std::string> watched_dirs_;
  int inotify_fd_ = -1;
  std::unique_ptr<char[]> buf_;
};

}  // namespace kreek::cli
