// Shared bits of the libFuzzer targets: a private scratch directory under
// /dev/shm (tmpfs: fuzzing must not wear the disk) and quiet logging.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "base/log.h"

namespace kreek::fuzz {

// A fresh empty directory, removed by the destructor.
class ScratchDir {
 public:
  ScratchDir() {
    std::string base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string tmpl = base + "/kreek-fuzz-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) ::abort();
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Fuzzing prints nothing but libFuzzer's own lines: errors found are crashes.
inline void quiet() { log::set_level(static_cast<log::Level>(4)); }  // above kError: nothing

}  // namespace kreek::fuzz
