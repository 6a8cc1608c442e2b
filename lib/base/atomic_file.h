// Small metadata files replaced atomically (leveldb's SetCurrentFile): write a
// temp file, fsync it, rename it over the target, fsync the directory. A crash
// leaves either the old file or the new one, plus at worst a leftover temp file
// named ".atomic-<pid>-<n>.tmp" (is_atomic_temp_name), which start-up removes.
// Used for the broker's metadata files and kconsume's --checkpoint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kreek {

// Fails (and leaves `path` as it was) if any step fails, close(2) included:
// on some file systems a failed close is the first sign a write was lost.
Status write_file_atomically(const std::string& path, std::string_view contents);
// Writes a small file in place with no fsync at all: for files whose loss or
// tearing in a crash their reader tolerates (a new partition's marker).
Status write_file_unsynced(const std::string& path, std::string_view contents);
// Whether `name` has the shape of write_file_atomically's temp files, so
// clean-ups remove those and never another program's "*.tmp".
bool is_atomic_temp_name(std::string_view name);
// fsync of a directory, so renames and unlinks in it are durable. If given,
// `*fsync_failed` says whether fsync itself failed (the kernel may have
// dropped dirty pages: nothing later can vouch for them) rather than the
// open(2) of the directory (EMFILE, ENOENT: nothing synced, try again later).
Status sync_dir(const std::string& dir, bool* fsync_failed = nullptr);
// The whole file; kNotFound if it does not exist, kCorrupt if it is longer
// than max_bytes (a "small" file that is not small is not what we wrote).
Result<std::string> read_small_file(const std::string& path, size_t max_bytes = SIZE_MAX);

}  // namespace kreek
