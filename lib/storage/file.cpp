// PosixFile (an O_APPEND descriptor with retried short writes and fdatasync)
// and MemFile (a shared string that tests can tear or corrupt).
#include "storage/file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace kreek::storage {
namespace {

class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd, int64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixFile() override { ::close(fd_); }

  Status append(std::string_view data) override {
    struct iovec iov{const_cast<char*>(data.data()), data.size()};
    return appendv(&iov, 1);
  }

  Status appendv(const struct iovec* iov_in, int iovcnt) override {
    // Copy so a short write can advance through the vector.
    std::vector<struct iovec> iov(iov_in, iov_in + iovcnt);
    size_t total = 0;
    for (const auto& v : iov) total += v.iov_len;
    size_t done = 0, first = 0;
    while (done < total) {
      while (first < iov.size() && iov[first].iov_len == 0) ++first;
      int cnt = static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
      ssize_t w = ::writev(fd_, iov.data() + first, cnt);
      if (w < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        // Drop whatever part of the write landed so no half line stays behind.
        if (done > 0) {
          int rc = ::ftruncate(fd_, size_);
          (void)rc;  // the write error is the one worth reporting
        }
        return errno_status("write", path_, e);
      }
      done += static_cast<size_t>(w);
      size_t left = static_cast<size_t>(w);
      while (left > 0) {
        size_t take = std::min(left, iov[first].iov_len);
        iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + take;
        iov[first].iov_len -= take;
        left -= take;
        if (iov[first].iov_len == 0) ++first;
      }
    }
    size_ += static_cast<int64_t>(total);
    return Status::ok();
  }

  Result<size_t> pread(int64_t pos, char* buf, size_t n) const override {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, buf + got, n - got, pos + static_cast<int64_t>(got));
      if (r < 0) {
        if (errno == EINTR) continue;
        return errno_status("read", path_, errno);
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    return got;
  }

  int64_t size() const override { return size_; }

  Status truncate(int64_t size) override {
    while (::ftruncate(fd_, size) != 0) {
      if (errno != EINTR) return errno_status("truncate", path_, errno);
    }
    size_ = size;
    return Status::ok();
  }

  Status sync() override {
    while (::fdatasync(fd_) != 0) {
      if (errno != EINTR) return errno_status("fdatasync", path_, errno);
    }
    return Status::ok();
  }

  int fd() const override { return fd_; }

 private:
  std::string path_;
  int fd_;
  int64_t size_;  // maintained here: only the owner thread appends or truncates
};

class MemFile final : public File {
 public:
  explicit MemFile(std::shared_ptr<std::string> data) : data_(std::move(data)) {}

  Status append(std::string_view data) override {
    data_->append(data);
    return Status::ok();
  }
  Status appendv(const struct iovec* iov, int iovcnt) override {
    for (int i = 0; i < iovcnt; ++i) data_->append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
    return Status::ok();
  }
  Result<size_t> pread(int64_t pos, char* buf, size_t n) const override {
    if (pos < 0) return invalid_request("read memfile: negative position");
    if (static_cast<size_t>(pos) >= data_->size()) return size_t{0};
    size_t got = std::min(n, data_->size() - static_cast<size_t>(pos));
    std::memcpy(buf, data_->data() + pos, got);
    return got;
  }
  int64_t size() const override { return static_cast<int64_t>(data_->size()); }
  Status truncate(int64_t size) override {
    data_->resize(static_cast<size_t>(size));
    return Status::ok();
  }
  Status sync() override { return Status::ok(); }

 private:
  std::shared_ptr<std::string> data_;
};

}  // namespace

Result<std::unique_ptr<File>> open_posix_file(const std::string& path, bool create) {
  int flags = O_RDWR | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0);
  int fd;
  do {
    fd = ::open(path.c_str(), flags, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno_status("open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return errno_status("stat", path, e);
  }
  return std::unique_ptr<File>(new PosixFile(path, fd, st.st_size));
}

std::unique_ptr<File> make_mem_file(std::shared_ptr<std::string> data) {
  return std::make_unique<MemFile>(std::move(data));
}

}  // namespace kreek::storage
