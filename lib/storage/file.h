// File: the seam between the storage engine and the disk. PosixFile is the real
// thing; MemFile lets tests tear, truncate and damage "disk" contents on purpose.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <sys/uio.h>

#include "base/status.h"

namespace kreek::storage {

class File {
 public:
  virtual ~File() = default;
  // Appends at the end; all-or-error (short writes are retried inside).
  virtual Status append(std::string_view data) = 0;
  virtual Status appendv(const struct iovec* iov, int iovcnt) = 0;
  virtual Result<size_t> pread(int64_t pos, char* buf, size_t n) const = 0;
  virtual int64_t size() const = 0;
  virtual Status truncate(int64_t size) = 0;
  virtual Status sync() = 0;  // fdatasync
  // The OS descriptor for zero-copy sends, or -1 for in-memory files.
  virtual int fd() const { return -1; }
};

// Opens (creating if asked) a file for read + append.
Result<std::unique_ptr<File>> open_posix_file(const std::string& path, bool create);
// An in-memory file; `data` is shared so a test can reach in and damage it.
std::unique_ptr<File> make_mem_file(std::shared_ptr<std::string> data);

}  // namespace kreek::storage
