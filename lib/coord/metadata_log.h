// MetadataLog: the coordinator's durable state, a directory holding
//   metadata.log                one line per record, appended and fdatasynced
//                               before a change is acknowledged:
//                               {"offset":N,"crc":C,"record":{...}}
//                               C is the CRC-32C of the exact bytes of the
//                               record value, as written
//   snapshot-<20 digits>.json   the image before that offset, written atomically
// Open replays the newest readable snapshot plus the log after it with
// MetadataImage::apply. A torn tail (an unfinished last write: a partial line,
// or bad lines with no good line after them) is cut off; a bad line followed by
// good ones is damage and refuses to open. Not thread-safe: one caller at a
// time (the coordinator runs appends on a worker, one at a time).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "coord/metadata_image.h"
#include "coord/metadata_records.h"

namespace kreek::coord {

struct OffsetRecord {
  int64_t offset = 0;
  Record record;
};

class MetadataLog {
 public:
  using Reporter = std::function<void(std::string_view message)>;

  // Creates `dir` if missing, takes its lock, recovers. Errors: kIoError
  // (another process holds the lock, or I/O), kCorrupt (damage that is not a
  // torn tail, or records that do not apply).
  static Result<std::unique_ptr<MetadataLog>> open(const std::string& dir, Reporter reporter = {});
  ~MetadataLog();
  MetadataLog(const MetadataLog&) = delete;
  MetadataLog& operator=(const MetadataLog&) = delete;

  // The image as of the end of the log, and the records after the snapshot it
  // was rebuilt from (what a following broker can be sent one by one).
  const MetadataImage& image() const { return image_; }
  const std::vector<OffsetRecord>& tail() const { return tail_; }
  int64_t snapshot_offset() const { return snapshot_offset_; }

  // Appends records numbered from `first_offset` (the log's next offset) and
  // fdatasyncs. On failure the log is unusable (a partial write may follow the
  // last good line; only reopening, which cuts it, makes it consistent).
  // Does not apply them: image() and tail() stay as opened (the caller keeps
  // the live image).
  Status append(int64_t first_offset, const std::vector<Record>& records);
  int64_t next_offset() const { return next_offset_; }

  // Writes `image` as a snapshot at image.next_offset() (which must be
  // next_offset()), then starts an empty log after it and removes older
  // snapshots. A crash at any step leaves a state that reopens to the same image.
  Status write_snapshot(const MetadataImage& image);

  const std::string& dir() const { return dir_; }

 private:
  MetadataLog() = default;
  Status recover();
  Status open_for_append();

  std::string dir_;
  Reporter reporter_;
  int lock_fd_ = -1;
  int log_fd_ = -1;
  bool broken_ = false;  // a failed append: nothing more may be appended
  MetadataImage image_;
  std::vector<OffsetRecord> tail_;
  int64_t snapshot_offset_ = 0;
  int64_t next_offset_ = 0;
};

// One log line for the record at `offset`, with its newline.
std::string encode_log_line(int64_t offset, const Record& record);
// Parses one line (without its newline). Errors: kCorrupt.
Result<OffsetRecord> decode_log_line(std::string_view line);

}  // namespace kreek::coord
