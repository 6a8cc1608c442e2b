// The coordinator's metadata log and snapshots; see metadata_log.h.
#include "coord/metadata_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>

#include "base/atomic_file.h"
#include "base/crc32c.h"

namespace kreek::coord {
namespace {

using nlohmann::json;

constexpr std::string_view kLogName = "metadata.log";
constexpr std::string_view kSnapshotPrefix = "snapshot-";
constexpr std::string_view kSnapshotSuffix = ".json";
constexpr size_t kMaxSnapshotBytes = size_t(1) << 30;

std::string snapshot_name(int64_t offset) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "snapshot-%020lld.json", static_cast<long long>(offset));
  return buf;
}

// snapshot-<20 digits>.json -> offset, or -1.
int64_t snapshot_offset_of(std::string_view name) {
  if (name.size() != kSnapshotPrefix.size() + 20 + kSnapshotSuffix.size() ||
      name.substr(0, kSnapshotPrefix.size()) != kSnapshotPrefix ||
      name.substr(name.size() - kSnapshotSuffix.size()) != kSnapshotSuffix)
    return -1;
  std::string_view digits = name.substr(kSnapshotPrefix.size(), 20);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || p != digits.data() + digits.size()) return -1;
  return v;
}

// Snapshot offsets present in `dir`, newest first.
std::vector<int64_t> list_snapshots(const std::string& dir) {
  std::vector<int64_t> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (struct dirent* e = ::readdir(d))
      if (int64_t o = snapshot_offset_of(e->d_name); o >= 0) out.push_back(o);
    ::closedir(d);
  }
  std::sort(out.rbegin(), out.rend());
  return out;
}

bool read_number(std::string_view& s, std::string_view prefix, int64_t& out) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || out < 0) return false;
  s.remove_prefix(p - s.data());
  return true;
}

Status write_all(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("write", path, errno);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

}  // namespace

std::string encode_log_line(int64_t offset, const Record& record) {
  std::string text = to_json(record).dump();
  return "{\"offset\":" + std::to_string(offset) + ",\"crc\":" + std::to_string(crc32c::value(text)) +
         ",\"record\":" + text + "}\n";
}

Result<OffsetRecord> decode_log_line(std::string_view line) {
  std::string_view s = line;
  int64_t offset = 0, crc = 0;
  if (!read_number(s, "{\"offset\":", offset) || !read_number(s, ",\"crc\":", crc) ||
      s.substr(0, 10) != ",\"record\":" || s.size() < 12 || s.back() != '}')
    return corrupt("metadata log line is not {\"offset\":N,\"crc\":C,\"record\":{...}}");
  std::string_view text = s.substr(10, s.size() - 11);
  if (crc32c::value(text) != crc)
    return corrupt("metadata log record " + std::to_string(offset) + " fails its checksum");
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return corrupt("metadata log record " + std::to_string(offset) + " is not JSON");
  KREEK_ASSIGN_OR_RETURN(Record r, record_from_json(j));
  return OffsetRecord{offset, std::move(r)};
}

MetadataLog::~MetadataLog() {
  if (log_fd_ >= 0) ::close(log_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<MetadataLog>> MetadataLog::open(const std::string& dir, Reporter reporter) {
  std::unique_ptr<MetadataLog> log(new MetadataLog());
  log->dir_ = dir;
  log->reporter_ = std::move(reporter);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return io_error("create " + dir + ": " + ec.message());
  std::string lock_path = dir + "/.lock";
  log->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (log->lock_fd_ < 0) return errno_status("open", lock_path, errno);
  if (::flock(log->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return io_error("lock " + dir + ": held by another process");
    return errno_status("lock", dir, errno);
  }
  KREEK_RETURN_IF_ERROR(log->recover());
  KREEK_RETURN_IF_ERROR(log->open_for_append());
  return log;
}

Status MetadataLog::recover() {
  auto report = [&](const std::string& m) {
    if (reporter_) reporter_(m);
  };
  // The newest snapshot that reads back; an older one only helps if the log
  // still reaches back to it, which the offset check below decides.
  for (int64_t offset : list_snapshots(dir_)) {
    std::string path = dir_ + "/" + snapshot_name(offset);
    auto text = read_small_file(path, kMaxSnapshotBytes);
    Result<MetadataImage> img = text.is_ok() ? [&]() -> Result<MetadataImage> {
      json j = json::parse(*text, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("image"))
        return corrupt(path + ": not a metadata snapshot");
      return MetadataImage::from_json(j["image"]);
    }()
                                             : Result<MetadataImage>(text.status());
    if (img.is_ok() && img->next_offset() == offset) {
      image_ = std::move(*img);
      snapshot_offset_ = offset;
      break;
    }
    report(path + ": unreadable snapshot skipped (" + img.status().to_string() + ")");
  }

  std::string path = dir_ + "/" + std::string(kLogName);
  auto content = read_small_file(path);
  if (!content && content.status().code() != Code::kNotFound) return content.status();
  std::string_view data = content ? std::string_view(*content) : std::string_view();

  size_t pos = 0, good_end = 0;
  Status first_bad;
  int64_t expect = image_.next_offset();
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (first_bad.is_ok()) first_bad = corrupt("metadata log ends in a partial line");
      break;
    }
    std::string_view line = data.substr(pos, nl - pos);
    auto rec = decode_log_line(line);
    Status s = rec.status();
    // A whole, checksummed line after a bad one: not a torn write but damage,
    // and cutting there would drop acknowledged changes.
    if (s.is_ok() && !first_bad.is_ok())
      return corrupt(path + ": damaged before offset " + std::to_string(rec->offset) + ": " +
                     first_bad.message());
    if (s.is_ok() && rec->offset < expect) {  // already in the snapshot
      pos = nl + 1;
      good_end = pos;
      continue;
    }
    if (s.is_ok() && rec->offset != expect)
      s = corrupt("metadata log jumps from offset " + std::to_string(expect) + " to " +
                  std::to_string(rec->offset));
    if (s.is_ok()) {
      KREEK_RETURN_IF_ERROR(image_.apply(rec->offset, rec->record).with_context(path));
      tail_.push_back(std::move(*rec));
      ++expect;
      good_end = nl + 1;
    } else if (first_bad.is_ok()) {
      first_bad = s;
    }
    pos = nl + 1;
  }
  next_offset_ = expect;
  if (good_end < data.size()) {
    report(path + ": torn tail of " + std::to_string(data.size() - good_end) +
           " bytes cut at offset " + std::to_string(expect) + " (" + first_bad.message() + ")");
    if (::truncate(path.c_str(), static_cast<off_t>(good_end)) != 0)
      return errno_status("truncate", path, errno);
  }
  return Status::ok();
}

Status MetadataLog::open_for_append() {
  std::string path = dir_ + "/" + std::string(kLogName);
  log_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd_ < 0) return errno_status("open", path, errno);
  if (::fdatasync(log_fd_) != 0) return errno_status("fsync", path, errno);
  return sync_dir(dir_);
}

Status MetadataLog::append(int64_t first_offset, const std::vector<Record>& records) {
  std::string path = dir_ + "/" + std::string(kLogName);
  if (broken_) return io_error(path + ": an earlier write failed; restart to recover");
  if (first_offset != next_offset_)
    return internal_error("metadata append at " + std::to_string(first_offset) + ", log ends at " +
                          std::to_string(next_offset_));
  std::string bytes;
  for (size_t i = 0; i < records.size(); ++i)
    bytes += encode_log_line(first_offset + static_cast<int64_t>(i), records[i]);
  Status s = write_all(log_fd_, bytes, path);
  if (s.is_ok() && ::fdatasync(log_fd_) != 0) s = errno_status("fsync", path, errno);
  if (!s.is_ok()) {
    broken_ = true;
    return s;
  }
  next_offset_ += static_cast<int64_t>(records.size());
  return Status::ok();
}

Status MetadataLog::write_snapshot(const MetadataImage& image) {
  if (image.next_offset() != next_offset_)
    return internal_error("snapshot at " + std::to_string(image.next_offset()) + ", log ends at " +
                          std::to_string(next_offset_));
  const int64_t offset = image.next_offset();
  json doc = {{"format", 1}, {"image", image.to_json()}};
  KREEK_RETURN_IF_ERROR(write_file_atomically(dir_ + "/" + snapshot_name(offset), doc.dump() + "\n"));
  // The snapshot is durable: the log before it is redundant. An empty log
  // replaces it atomically; a crash before the rename leaves the old log,
  // whose lines below the snapshot are skipped on replay.
  std::string path = dir_ + "/" + std::string(kLogName);
  KREEK_RETURN_IF_ERROR(write_file_atomically(path, ""));
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return errno_status("open", path, errno);
  ::close(log_fd_);
  log_fd_ = fd;
  for (int64_t old : list_snapshots(dir_))
    if (old < offset) ::unlink((dir_ + "/" + snapshot_name(old)).c_str());
  snapshot_offset_ = offset;
  return Status::ok();
}

}  // namespace kreek::coord
