// PartitionLog::open: list the segment files, trust the ones wholly below the
// recovery point (their indexes load lazily, so start-up reads nothing of
// them), and verify everything from the segment holding the recovery point
// on, truncating at the first torn or corrupt batch.
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "base/atomic_file.h"
#include "base/clock.h"
#include "storage/descriptor_cache.h"
#include "storage/partition_log.h"
#include "storage/segment.h"
#include "storage/segment_swap.h"

namespace kreek::storage {
namespace {

struct Listing {
  std::vector<Offset> logs;
  std::set<int64_t> index_bases;
};

// "00000000000000001000.log" -> 1000 with ext ".log".
bool parse_segment_name(std::string_view name, int64_t* base, std::string_view* ext) {
  if (name.size() < 21) return false;
  int64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return false;
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, c - '0', &v)) return false;
  }
  *base = v;
  *ext = name.substr(20);
  return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Result<Listing> list_segments(const std::string& dir) {
  Listing out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errno_status("open", dir, errno);
  std::vector<std::string> leftovers;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name(e->d_name);
    if (name == "." || name == "..") continue;
    int64_t base;
    std::string_view ext;
    // An epoch checkpoint write cut short (the lock keeps other brokers out).
    if (is_atomic_temp_name(name)) {
      leftovers.emplace_back(name);
      continue;
    }
    if (!parse_segment_name(name, &base, &ext)) continue;  // not a name kreek writes: left alone
    if (ends_with(name, ".tmp") || ends_with(name, ".deleted")) {
      leftovers.emplace_back(name);
      continue;
    }
    if (ext == ".log") {
      out.logs.push_back(Offset(base));
    } else if (ext == ".index" || ext == ".timeindex") {
      out.index_bases.insert(base);
    }
  }
  ::closedir(d);
  for (const auto& name : leftovers) ::unlink((dir + "/" + name).c_str());
  std::sort(out.logs.begin(), out.logs.end());
  // Indexes without a log are leftovers of a deleted segment.
  for (int64_t b : out.index_bases) {
    if (!std::binary_search(out.logs.begin(), out.logs.end(), Offset(b))) {
      ::unlink(segment_path(dir, Offset(b), ".index").c_str());
      ::unlink(segment_path(dir, Offset(b), ".timeindex").c_str());
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<PartitionLog>> PartitionLog::open(std::string dir, LogConfig config,
                                                         Offset recovery_point, Reporter reporter,
                                                         std::shared_ptr<DescriptorCache> fd_cache,
                                                         bool compacted_before) {
  // One mkdir in the common case (parent exists); the slower walk otherwise.
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return io_error("create " + dir + ": " + ec.message());
  }
  std::unique_ptr<PartitionLog> log(new PartitionLog(std::move(dir), config));
  log->reporter_ = std::move(reporter);
  log->gaps_ = config.cleanup_compact || compacted_before;
  std::vector<LeaderEpochCache::Entry> epoch_starts;
  KREEK_RETURN_IF_ERROR(log->recover_segments(recovery_point, &epoch_starts));
  // Segments recovery rewrote are dirty: the background flush takes them.
  // Closed segments count against the descriptor bound (recovery opened some).
  log->fd_cache_ = std::move(fd_cache);
  // The active segment's descriptors count against the bound (the destructor
  // gives them back, also if open fails below).
  if (log->fd_cache_) log->fd_cache_->add_active(kActiveSegmentDescriptors);
  for (size_t i = 0; i + 1 < log->segments_.size(); ++i) {
    if (log->segments_[i]->is_dirty()) log->unsynced_closed_ = true;
    log->segments_[i]->set_descriptor_cache(log->fd_cache_);
  }
  KREEK_RETURN_IF_ERROR(log->refresh_tail());
  log->recovery_point_ = std::min(recovery_point, log->log_end());  // load_epochs reads it
  KREEK_RETURN_IF_ERROR(log->load_epochs(epoch_starts));
  // Nothing is known replicated until someone says so (LogManager restores
  // the checkpointed value): an unreplicated tail must not become visible.
  log->high_watermark_ = log->log_start();
  KREEK_RETURN_IF_ERROR(log->rebuild_producers());
  log->unflushed_messages_ = log->log_end() - log->recovery_point_;
  log->first_unflushed_ms_ = log->unflushed_messages_ > 0 ? clock::monotonic_ms() : 0;
  return log;
}

Status PartitionLog::recover_segments(Offset recovery_point,
                                      std::vector<LeaderEpochCache::Entry>* epoch_starts) {
  // A compaction's segment swap cut short by a crash is finished or undone
  // first, so the listing below sees one consistent set of segments.
  KREEK_ASSIGN_OR_RETURN(std::string swap_note, finish_interrupted_swap(dir_));
  if (!swap_note.empty()) report(dir_ + ": " + swap_note);
  KREEK_ASSIGN_OR_RETURN(Listing listing, list_segments(dir_));
  const std::vector<Offset>& bases = listing.logs;
  int64_t interval = config_.index_interval_bytes;
  if (bases.empty()) {
    if (recovery_point > Offset(0))
      report(dir_ + ": no segments although the recovery point is " +
             std::to_string(recovery_point.value()) + "; starting empty at offset 0");
    KREEK_ASSIGN_OR_RETURN(auto seg, Segment::create(dir_, Offset(0), interval));
    seg->allow_gaps(gaps_);
    segments_.push_back(std::move(seg));
    return Status::ok();
  }
  size_t n = bases.size();
  // The first segment that may hold bytes past the recovery point.
  size_t first_check = 0;
  while (first_check + 1 < n && bases[first_check + 1] <= recovery_point) ++first_check;
  for (size_t i = 0; i < first_check; ++i) {
    KREEK_ASSIGN_OR_RETURN(auto seg, Segment::open_closed(dir_, bases[i], bases[i + 1], interval));
    seg->allow_gaps(gaps_);
    segments_.push_back(std::move(seg));
  }
  // Epochs never decrease: carried across the segments verified below.
  LeaderEpoch epoch_floor(-1);
  for (size_t i = first_check; i < n; ++i) {
    KREEK_ASSIGN_OR_RETURN(auto seg, Segment::open_closed(dir_, bases[i], bases[i], interval));
    seg->allow_gaps(gaps_);
    bool last = i + 1 == n;
    KREEK_ASSIGN_OR_RETURN(Segment::Recovery rec,
                           seg->recover(recovery_point, !last, &epoch_floor, epoch_starts));
    segments_.push_back(seg);
    std::string reason = rec.truncated ? rec.reason.message() : std::string();
    // In a compacted log a closed segment may end before the next one starts:
    // compaction removed its last records (kreek-format(5), Gaps). Elsewhere
    // that means lost data, and what follows the hole is dropped as before.
    if (!rec.truncated && !last && seg->end() < bases[i + 1] && gaps_)
      seg->cover_to(bases[i + 1]);
    if (!rec.truncated && !last && seg->end() != bases[i + 1]) {
      rec.truncated = true;
      rec.bad_offset = seg->end();
      rec.bad_pos = seg->size();
      reason = "batches end at offset " + std::to_string(seg->end().value()) +
               " but the next segment starts at " + std::to_string(bases[i + 1].value());
    }
    if (!rec.truncated) {
      if (!last) seg->close_index_files();
      continue;
    }
    // Everything after the cut goes: later segments cannot follow a gap.
    int64_t dropped = rec.dropped;
    for (size_t j = i + 1; j < n; ++j) {
      std::string p = segment_path(dir_, bases[j], ".log");
      struct stat st;
      if (::stat(p.c_str(), &st) == 0) dropped += st.st_size;
      for (std::string_view ext : {".log", ".index", ".timeindex"}) {
        std::string q = segment_path(dir_, bases[j], ext);
        if (::unlink(q.c_str()) != 0 && errno != ENOENT) return errno_status("unlink", q, errno);
      }
    }
    report(dir_ + ": truncated torn tail at offset " + std::to_string(rec.bad_offset.value()) +
           " (file pos " + std::to_string(rec.bad_pos) + ", " + std::to_string(dropped) +
           " bytes dropped): " + std::filesystem::path(seg->name()).filename().string() + ": " +
           reason);
    break;
  }
  return Status::ok();
}

}  // namespace kreek::storage
