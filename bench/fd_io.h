// write_all(): every byte to a descriptor, through EINTR and short writes. Shared
// by the bench helpers, which use only the standard library and POSIX.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>

inline bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= size_t(w);
  }
  return true;
}
