// Small metadata files replaced atomically (leveldb's SetCurrentFile): write a
// temp file, fsync it, rename it over the target, fsync the directory. A crash
// leaves either the old file or the new one, plus at worst a "*.tmp" leftover.
// Used for the broker's metadata files and kconsume's --checkpoint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kreek {

Status write_file_atomically(const std::string& path, std::string_view contents);
// fsync of a directory, so renames and unlinks in it are durable.
Status sync_dir(const std::string& dir);
// The whole file; kNotFound if it does not exist, kCorrupt if it is longer
// than max_bytes (a "small" file that is not small is not what we wrote).
Result<std::string> read_small_file(const std::string& path, size_t max_bytes = SIZE_MAX);

}  // namespace kreek
