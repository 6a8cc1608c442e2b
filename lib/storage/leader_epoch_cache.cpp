// LeaderEpochCache: the epoch history's rules (assign, KIP-279 lookup, the two
// truncations) and its checkpoint file codec. See leader_epoch_cache.h.
#include "storage/leader_epoch_cache.h"

#include <algorithm>
#include <charconv>

namespace kreek::storage {

Result<bool> LeaderEpochCache::assign(LeaderEpoch epoch, Offset start) {
  if (epoch.value() < 0 || start.value() < 0)
    return corrupt("assign leader epoch " + std::to_string(epoch.value()) + " at offset " +
                   std::to_string(start.value()) + ": negative");
  if (entries_.empty()) {
    entries_.push_back({epoch, start});
    return true;
  }
  Entry& last = entries_.back();
  if (epoch == last.epoch) return false;
  if (epoch < last.epoch)
    return corrupt("assign leader epoch " + std::to_string(epoch.value()) + " at offset " +
                   std::to_string(start.value()) + ": below the latest epoch " +
                   std::to_string(last.epoch.value()));
  if (start < last.start)
    return corrupt("assign leader epoch " + std::to_string(epoch.value()) + " at offset " +
                   std::to_string(start.value()) + ": before epoch " + std::to_string(last.epoch.value()) +
                   "'s start " + std::to_string(last.start.value()));
  if (start == last.start) {
    // The latest epoch wrote nothing; the newer one takes its place, so a
    // lookup for it answers with the newer epoch's history.
    last.epoch = epoch;
    return true;
  }
  entries_.push_back({epoch, start});
  return true;
}

EpochEnd LeaderEpochCache::end_offset_for(LeaderEpoch e, Offset log_end) const {
  // First entry with epoch > e; the one before it is the floor.
  auto it = std::upper_bound(entries_.begin(), entries_.end(), e,
                             [](LeaderEpoch v, const Entry& x) { return v < x.epoch; });
  if (it == entries_.begin()) return {};
  LeaderEpoch floor = std::prev(it)->epoch;
  return {floor, it == entries_.end() ? log_end : it->start};
}

void LeaderEpochCache::truncate_from_end(Offset end) {
  while (!entries_.empty() && entries_.back().start >= end) entries_.pop_back();
}

void LeaderEpochCache::truncate_from_start(Offset start) {
  // Entry i covers [start_i, start_{i+1}); it is wholly before `start` when
  // the next entry begins at or before `start`.
  size_t drop = 0;
  while (drop + 1 < entries_.size() && entries_[drop + 1].start <= start) ++drop;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
  if (!entries_.empty() && entries_.front().start < start) entries_.front().start = start;
}

void LeaderEpochCache::clear() { entries_.clear(); }

LeaderEpoch LeaderEpochCache::latest_epoch() const {
  return entries_.empty() ? LeaderEpoch(-1) : entries_.back().epoch;
}

std::string LeaderEpochCache::encode() const {
  std::string out = "0\n" + std::to_string(entries_.size()) + "\n";
  for (const Entry& e : entries_)
    out += std::to_string(e.epoch.value()) + " " + std::to_string(e.start.value()) + "\n";
  return out;
}

namespace {

// A whole decimal integer >= 0, nothing else.
template <typename T>
bool parse_int(std::string_view s, T& out) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<LeaderEpochCache> LeaderEpochCache::decode(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos)
      return corrupt("decode leader-epoch-checkpoint: line " + std::to_string(lines.size() + 1) +
                     " has no newline (torn file)");
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  auto at = [](size_t i, const std::string& what) {
    return corrupt("decode leader-epoch-checkpoint: line " + std::to_string(i + 1) + ": " + what);
  };
  if (lines.empty()) return corrupt("decode leader-epoch-checkpoint: empty file");
  if (lines[0] != "0") return at(0, "unknown version \"" + std::string(lines[0].substr(0, 16)) + "\"");
  size_t count = 0;
  if (lines.size() < 2 || !parse_int(lines[1], count)) return at(1, "missing or bad entry count");
  if (lines.size() - 2 != count)
    return corrupt("decode leader-epoch-checkpoint: count says " + std::to_string(count) + " entries, file has " +
                   std::to_string(lines.size() - 2));
  LeaderEpochCache cache;
  for (size_t i = 2; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    size_t sp = l.find(' ');
    int32_t epoch = 0;
    int64_t start = 0;
    if (sp == std::string_view::npos || !parse_int(l.substr(0, sp), epoch) || !parse_int(l.substr(sp + 1), start))
      return at(i, "expected \"<epoch> <start offset>\"");
    if (!cache.entries_.empty() &&
        (LeaderEpoch(epoch) <= cache.entries_.back().epoch || Offset(start) <= cache.entries_.back().start))
      return at(i, "epoch " + std::to_string(epoch) + " at " + std::to_string(start) +
                       " does not follow the previous entry (both must increase)");
    cache.entries_.push_back({LeaderEpoch(epoch), Offset(start)});
  }
  return cache;
}

}  // namespace kreek::storage
