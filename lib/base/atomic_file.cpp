// Atomic replacement of small files: temp + fsync + rename + fsync(dir).
#include "base/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>

namespace kreek {
namespace {

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno_status("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  return Status::ok();
}

// write_file_atomically's temp files: ".atomic-<pid>-<n>.tmp".
constexpr std::string_view kTempPrefix = ".atomic-";
constexpr std::string_view kTempSuffix = ".tmp";

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

bool is_atomic_temp_name(std::string_view name) {
  if (name.size() <= kTempPrefix.size() + kTempSuffix.size() ||
      name.substr(0, kTempPrefix.size()) != kTempPrefix ||
      name.substr(name.size() - kTempSuffix.size()) != kTempSuffix)
    return false;
  std::string_view mid =
      name.substr(kTempPrefix.size(), name.size() - kTempPrefix.size() - kTempSuffix.size());
  size_t dash = mid.find('-');
  return dash != std::string_view::npos && all_digits(mid.substr(0, dash)) && all_digits(mid.substr(dash + 1));
}

Status sync_dir(const std::string& dir, bool* fsync_failed) {
  if (fsync_failed) *fsync_failed = false;
  int fd;
  do {
    fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno_status("open", dir, errno);
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  int e = errno;
  ::close(fd);
  if (rc != 0) {
    if (fsync_failed) *fsync_failed = true;
    return errno_status("fsync", dir, e);
  }
  return Status::ok();
}

Status write_file_atomically(const std::string& path, std::string_view contents) {
  static std::atomic<uint64_t> counter{0};
  std::string dir = dir_of(path);
  // Not path + ".tmp": a 249-byte topic name plus ".json.tmp" would pass NAME_MAX.
  // The pid and counter keep concurrent writers (two kconsume runs sharing a
  // checkpoint directory, two threads) off each other's temp file.
  std::string tmp = dir + "/" + std::string(kTempPrefix) + std::to_string(::getpid()) + "-" +
                    std::to_string(counter.fetch_add(1)) + std::string(kTempSuffix);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status("create", tmp, errno);
  Status s = write_all(fd, contents, tmp);
  if (s && ::fsync(fd) != 0) s = errno_status("fsync", tmp, errno);
  // EINTR from close(2) still closes the descriptor on Linux and says nothing
  // about the data, which fsync already vouched for; other errors (EIO on NFS)
  // mean the contents may not be what we wrote.
  if (::close(fd) != 0 && errno != EINTR && s) s = errno_status("close", tmp, errno);
  if (s && ::rename(tmp.c_str(), path.c_str()) != 0) s = errno_status("rename", path, errno);
  if (!s) {
    ::unlink(tmp.c_str());
    return s;
  }
  return sync_dir(dir);
}

Status write_file_unsynced(const std::string& path, std::string_view contents) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status("create", path, errno);
  Status s = write_all(fd, contents, path);
  if (::close(fd) != 0 && errno != EINTR && s) s = errno_status("close", path, errno);
  return s;
}

Result<std::string> read_small_file(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status("open", path, errno);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return errno_status("read", path, e);
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
    if (out.size() > max_bytes) {
      ::close(fd);
      return corrupt(path + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  ::close(fd);
  return out;
}

}  // namespace kreek
