// The two sparse indexes beside each segment, as fixed-size little-endian entries:
//   .index      u32 offset relative to the segment base, u32 file position of that batch
//   .timeindex  i64 max timestamp so far, u32 relative offset of the batch that carried it
// Append-only files mirrored by in-memory vectors; always rebuildable from the log.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/file.h"

namespace kreek::storage {

struct OffsetEntry {
  uint32_t rel = 0;  // batch base - segment base
  uint32_t pos = 0;  // where that batch's line starts in the .log file
  bool operator==(const OffsetEntry&) const = default;
  static constexpr size_t kBytes = 8;
  void encode(char* out) const;
  static OffsetEntry decode(const char* in);
};

struct TimeEntry {
  int64_t ts = 0;    // the segment's max batch timestamp at this batch
  uint32_t rel = 0;  // base - segment base of the batch that carried ts
  bool operator==(const TimeEntry&) const = default;
  static constexpr size_t kBytes = 12;
  void encode(char* out) const;
  static TimeEntry decode(const char* in);
};

// One index file and its entries. The file is optional (not yet opened, or an
// index kept only in memory); entries are the truth while the segment is open.
template <typename Entry>
class IndexFile {
 public:
  void attach(std::unique_ptr<File> file) {
    file_ = std::move(file);
    file_matches_ = file_ && entries_.empty() && file_->size() == 0;
  }
  // Closes the file (once no sync() holds it); entries stay in memory.
  void release_file() {
    file_.reset();
    file_matches_ = false;
  }
  bool has_file() const { return file_ != nullptr; }
  File* file() const { return file_.get(); }
  // For a sync on another thread: keeps the file open while it runs.
  std::shared_ptr<File> shared_file() const { return file_; }
  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  // False after load() found a torn trailing entry or a failed write.
  bool clean() const { return !file_ || file_matches_; }

  // Reads every whole entry from the file (a torn trailing entry is ignored).
  Status load();
  Status append(const Entry& e);
  // Replaces the entries; rewrites the file only if its contents differ.
  Status rewrite(std::vector<Entry> entries);
  // Keeps the first `count` entries (file truncated to match).
  Status keep_first(size_t count);

 private:
  std::shared_ptr<File> file_;
  std::vector<Entry> entries_;
  bool file_matches_ = false;  // file bytes == encode(entries_)
};

using OffsetIndex = IndexFile<OffsetEntry>;
using TimeIndex = IndexFile<TimeEntry>;

extern template class IndexFile<OffsetEntry>;
extern template class IndexFile<TimeEntry>;

}  // namespace kreek::storage
