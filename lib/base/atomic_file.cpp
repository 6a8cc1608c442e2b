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

}  // namespace

Status sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status("open", dir, errno);
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  int e = errno;
  ::close(fd);
  if (rc != 0) return errno_status("fsync", dir, e);
  return Status::ok();
}

Status write_file_atomically(const std::string& path, std::string_view contents) {
  static std::atomic<uint64_t> counter{0};
  std::string dir = dir_of(path);
  // Not path + ".tmp": a 249-byte topic name plus ".json.tmp" would pass NAME_MAX.
  // The pid and counter keep concurrent writers (two kconsume runs sharing a
  // checkpoint directory, two threads) off each other's temp file.
  std::string tmp = dir + "/.atomic-" + std::to_string(::getpid()) + "-" +
                    std::to_string(counter.fetch_add(1)) + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status("create", tmp, errno);
  Status s = write_all(fd, contents, tmp);
  if (s && ::fsync(fd) != 0) s = errno_status("fsync", tmp, errno);
  ::close(fd);
  if (s && ::rename(tmp.c_str(), path.c_str()) != 0) s = errno_status("rename", path, errno);
  if (!s) {
    ::unlink(tmp.c_str());
    return s;
  }
  return sync_dir(dir);
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
