// FileFollower: glob expansion, identity by (device, inode), rotation and
// truncation checks, and line splitting that keeps byte positions.
#include "cli/file_follower.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace kreek::cli {
namespace {

constexpr size_t kReadBytes = 1 << 20;
// A "line" that grows past this without a '\n' is handed out in pieces:
// holding it whole would let one runaway writer take all memory.
constexpr size_t kMaxCarryBytes = 4 << 20;
constexpr uint32_t kFileEvents = IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF;
constexpr uint32_t kDirEvents = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE;

bool has_glob_chars(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Newlines in the first `upto` bytes: the line number a file read from its
// end starts at.
int64_t count_lines(int fd, int64_t upto, char* buf) {
  int64_t n = 0;
  for (int64_t at = 0; at < upto;) {
    ssize_t r = ::pread(fd, buf, static_cast<size_t>(std::min<int64_t>(kReadBytes, upto - at)), at);
    if (r <= 0) break;
    n += std::count(buf, buf + r, '\n');
    at += r;
  }
  return n;
}

}  // namespace

FileFollower::FileFollower(FollowOptions options)
    : options_(std::move(options)), buf_(new char[kReadBytes]) {
  // Limitation: without inotify (another OS, or the watch limit reached)
  // growth is only seen at each rescan.
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
}

FileFollower::~FileFollower() {
  for (auto& f : files_)
    if (f->fd >= 0) ::close(f->fd);
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

size_t FileFollower::open_count() const {
  return static_cast<size_t>(std::count_if(files_.begin(), files_.end(), [](const auto& f) { return f->fd >= 0; }));
}

void FileFollower::notice(const std::string& m) const {
  if (on_notice) on_notice(m);
}

std::vector<std::string> FileFollower::expand() const {
  std::vector<std::string> out;
  for (const auto& p : options_.patterns) {
    if (!has_glob_chars(p)) {
      out.push_back(p);
      continue;
    }
    glob_t g{};
    if (::glob(p.c_str(), 0, nullptr, &g) == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    ::globfree(&g);
  }
  return out;
}

void FileFollower::watch_dir(const std::string& pattern) {
  if (inotify_fd_ < 0) return;
  std::string dir = dir_of(pattern);
  if (has_glob_chars(dir)) return;  // rescans find files in globbed directories
  if (std::find(watched_dirs_.begin(), watched_dirs_.end(), dir) != watched_dirs_.end()) return;
  if (::inotify_add_watch(inotify_fd_, dir.c_str(), kDirEvents) >= 0) watched_dirs_.push_back(dir);
}

void FileFollower::open_file(const std::string& path, int64_t now_ms, const FollowState* saved, bool at_start,
                             bool rotated) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // gone again, or unreadable: the next rescan tries again
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return;
  }
  auto f = std::make_unique<File>();
  f->path = path;
  f->dev = static_cast<uint64_t>(st.st_dev);
  f->ino = static_cast<uint64_t>(st.st_ino);
  f->fd = fd;
  f->rotated = rotated;
  f->idle_since = now_ms;
  const FileProgress* known = saved != nullptr ? saved->find(f->dev, f->ino) : nullptr;
  if (known != nullptr) {
    if (known->pos > st.st_size) {
      // Truncated while kproduce was down (or the inode was reused).
      notice(path + ": shorter than its saved position " + std::to_string(known->pos) + ", reading it from the start");
    } else {
      f->pos = known->pos;
      f->line = known->line;
    }
  } else if (at_start && options_.start_at_end) {
    f->pos = st.st_size;
    f->line = count_lines(fd, st.st_size, buf_.get());
  }
  if (f->pos > 0 && ::lseek(fd, f->pos, SEEK_SET) < 0) {
    ::close(fd);
    return;
  }
  f->start_pos = f->pos;
  f->start_line = f->line;
  if (inotify_fd_ >= 0) f->wd = ::inotify_add_watch(inotify_fd_, path.c_str(), kFileEvents);
  notice("following " + path + " from byte " + std::to_string(f->pos) + (rotated ? " (rotated: finishing it)" : ""));
  files_.push_back(std::move(f));
}

Status FileFollower::start(const FollowState* saved, int64_t now_ms) {
  for (const auto& p : options_.patterns) {
    watch_dir(p);
    struct stat st {};
    if (!has_glob_chars(p) && ::stat(p.c_str(), &st) != 0 && errno != ENOENT)
      return errno_status("stat", p, errno);
  }
  for (const auto& path : expand()) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    bool dup = std::any_of(files_.begin(), files_.end(), [&](const auto& f) {
      return f->dev == static_cast<uint64_t>(st.st_dev) && f->ino == static_cast<uint64_t>(st.st_ino);
    });
    if (!dup) open_file(path, now_ms, saved, /*at_start=*/true, /*rotated=*/false);
  }
  if (saved == nullptr) return Status::ok();
  // Saved files no pattern names now: rotated while kproduce was down. Their
  // unsent tail is still in the file under its new name; look for the inode
  // beside the old name (where logrotate's renames put it) and finish it.
  for (const auto& s : saved->files) {
    bool found = std::any_of(files_.begin(), files_.end(),
                             [&](const auto& f) { return f->dev == s.dev && f->ino == s.ino; });
    if (found) continue;
    std::string dir = dir_of(s.path);
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) continue;
    std::string hit;
    while (dirent* e = ::readdir(d)) {
      if (e->d_ino != s.ino) continue;
      std::string p = dir == "/" ? "/" + std::string(e->d_name) : dir + "/" + e->d_name;
      struct stat st {};
      if (::stat(p.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_dev) == s.dev &&
          static_cast<uint64_t>(st.st_ino) == s.ino && S_ISREG(st.st_mode) && st.st_size > s.pos) {
        hit = p;
        break;
      }
    }
    ::closedir(d);
    if (!hit.empty()) {
      open_file(hit, now_ms, saved, /*at_start=*/true, /*rotated=*/true);
      if (!files_.empty() && files_.back()->ino == s.ino) files_.back()->path = s.path;
    }
  }
  return Status::ok();
}

uint32_t FileFollower::add_closed(const std::string& path, uint64_t dev, uint64_t ino, int64_t pos, int64_t line) {
  auto f = std::make_unique<File>();
  f->path = path;
  f->dev = dev;
  f->ino = ino;
  f->pos = f->start_pos = pos;
  f->line = f->start_line = line;
  files_.push_back(std::move(f));
  return static_cast<uint32_t>(files_.size() - 1);
}

void FileFollower::rescan(int64_t now_ms) {
  std::vector<std::pair<uint64_t, uint64_t>> named;
  for (const auto& path : expand()) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    const auto id = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
    if (std::find(named.begin(), named.end(), id) != named.end()) continue;
    named.push_back(id);
    bool open = std::any_of(files_.begin(), files_.end(), [&](const auto& f) {
      return f->fd >= 0 && f->dev == id.first && f->ino == id.second;
    });
    // A new file, or the new file under a rotated name: from its beginning,
    // or lines written before this scan would be lost.
    if (!open) open_file(path, now_ms, nullptr, /*at_start=*/false, /*rotated=*/false);
  }
  for (auto& f : files_) {
    if (f->fd < 0) continue;
    bool is_named = std::find(named.begin(), named.end(), std::make_pair(f->dev, f->ino)) != named.end();
    if (!is_named && !f->rotated) {
      f->rotated = true;
      f->idle_since = now_ms;
      notice(f->path + ": renamed or removed, finishing the old file");
    } else if (is_named && f->rotated) {
      f->rotated = false;  // moved back under a watched name
    }
  }
}

void FileFollower::emit(File& f, uint32_t idx, std::string_view line, int64_t end_pos, FollowSink& sink) {
  ++f.line;
  sink.on_line(idx, line, f.line, end_pos);
}

void FileFollower::flush_carry(File& f, uint32_t idx, FollowSink& sink) {
  if (f.carry.empty()) return;
  emit(f, idx, f.carry, f.pos, sink);
  f.carry.clear();
  f.carry_since = -1;
}

Result<int64_t> FileFollower::read(int64_t now_ms, int64_t max_bytes, FollowSink& sink) {
  int64_t total = 0;
  for (uint32_t idx = 0; idx < files_.size() && total < max_bytes; ++idx) {
    File& f = *files_[idx];
    if (f.fd < 0) continue;
    bool grew = false;
    while (total < max_bytes) {
      ssize_t n = ::read(f.fd, buf_.get(), kReadBytes);
      if (n < 0) {
        if (errno == EINTR) continue;
        Status s = errno_status("read", f.path, errno);
        close_file(f);
        return s;
      }
      if (n == 0) {
        // At the end: did the file shrink under us (copytruncate)?
        struct stat st {};
        if (::fstat(f.fd, &st) == 0 && st.st_size < f.pos) {
          flush_carry(f, idx, sink);
          notice(f.path + ": truncated, reading it again from the start");
          f.pos = 0;
          f.line = 0;
          ::lseek(f.fd, 0, SEEK_SET);
          sink.on_reset(idx, 0);
          continue;
        }
        break;
      }
      grew = true;
      total += n;
      std::string_view chunk(buf_.get(), static_cast<size_t>(n));
      int64_t chunk_pos = f.pos;
      f.pos += n;
      size_t done = 0;
      for (;;) {
        const void* nl = std::memchr(chunk.data() + done, '\n', chunk.size() - done);
        if (nl == nullptr) break;
        size_t end = static_cast<size_t>(static_cast<const char*>(nl) - chunk.data());
        int64_t end_pos = chunk_pos + static_cast<int64_t>(end) + 1;
        if (!f.carry.empty()) {
          f.carry.append(chunk.data() + done, end - done);
          emit(f, idx, f.carry, end_pos, sink);
          f.carry.clear();
          f.carry_since = -1;
        } else {
          emit(f, idx, chunk.substr(done, end - done), end_pos, sink);
        }
        done = end + 1;
      }
      if (done < chunk.size()) {
        if (f.carry.empty()) f.carry_since = now_ms;
        f.carry.append(chunk.data() + done, chunk.size() - done);
        if (f.carry.size() >= kMaxCarryBytes) flush_carry(f, idx, sink);
      }
    }
    if (grew) f.idle_since = now_ms;
    if (total >= max_bytes) break;  // more to read: the caller comes back at once
    // At the end of the file: a held partial line whose wait ran out goes as is.
    if (!f.carry.empty() && now_ms - f.carry_since >= options_.partial_wait_ms) flush_carry(f, idx, sink);
    if (f.rotated && now_ms - f.idle_since >= options_.rotate_wait_ms) {
      flush_carry(f, idx, sink);
      notice(f.path + ": finished the rotated file at byte " + std::to_string(f.pos));
      close_file(f);
    }
  }
  return total;
}

void FileFollower::close_file(File& f) {
  if (f.wd >= 0 && inotify_fd_ >= 0) ::inotify_rm_watch(inotify_fd_, f.wd);
  f.wd = -1;
  if (f.fd >= 0) ::close(f.fd);
  f.fd = -1;
  f.carry.clear();
  f.carry.shrink_to_fit();
}

int64_t FileFollower::next_deadline() const {
  int64_t d = -1;
  auto take = [&](int64_t t) {
    if (d < 0 || t < d) d = t;
  };
  for (const auto& f : files_) {
    if (f->fd < 0) continue;
    if (!f->carry.empty()) take(f->carry_since + options_.partial_wait_ms);
    if (f->rotated) take(f->idle_since + options_.rotate_wait_ms);
  }
  return d;
}

bool FileFollower::drain_events() {
  if (inotify_fd_ < 0) return false;
  bool names_changed = false;
  alignas(inotify_event) char ev[8192];
  for (;;) {
    ssize_t n = ::read(inotify_fd_, ev, sizeof ev);
    if (n <= 0) break;
    for (ssize_t at = 0; at < n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(ev + at);
      if ((e->mask & (kDirEvents | IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB | IN_Q_OVERFLOW)) != 0)
        names_changed = true;
      at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
  }
  return names_changed;
}

}  // namespace kreek::cli
