// LineFramer: memchr-based line splitting over one growable buffer, with
// oversize lines skipped rather than buffered.
#include "net/line_framer.h"

#include <algorithm>
#include <cstring>

namespace kreek::net {
namespace {
// A buffer that grew for one big line is given back once it empties, so an
// idle connection costs one read chunk rather than its largest request.
constexpr size_t kShrinkAbove = 256 << 10;
}  // namespace

LineFramer::LineFramer(int64_t max_line_bytes) : max_(max_line_bytes < 1 ? 1 : max_line_bytes) {}

char* LineFramer::prepare(size_t n) {
  if (start_ == end_) {
    start_ = scan_ = end_ = 0;
    if (cap_ > kShrinkAbove && n <= kShrinkAbove) {
      buf_.reset();
      cap_ = 0;
    }
  }
  if (cap_ - end_ < n && start_ > 0) {
    std::memmove(buf_.get(), buf_.get() + start_, end_ - start_);
    scan_ -= start_;
    end_ -= start_;
    start_ = 0;
  }
  if (cap_ - end_ < n) {
    size_t cap = cap_ == 0 ? n : cap_;
    while (cap - end_ < n) cap *= 2;
    auto grown = std::make_unique_for_overwrite<char[]>(cap);  // no zero-fill: reads overwrite it
    if (end_ > 0) std::memcpy(grown.get(), buf_.get(), end_);
    buf_ = std::move(grown);
    cap_ = cap;
  }
  return buf_.get() + end_;
}

void LineFramer::commit(size_t n) { end_ += n; }

LineFramer::Event LineFramer::next() {
  if (start_ == end_) return {};
  char* base = buf_.get();
  if (discarding_) {
    auto* nl = static_cast<char*>(std::memchr(base + start_, '\n', end_ - start_));
    if (nl == nullptr) {
      start_ = scan_ = end_ = 0;  // still inside the oversize line: drop what came
      return {};
    }
    discarding_ = false;
    start_ = scan_ = static_cast<size_t>(nl - base) + 1;
    if (start_ == end_) return {};
  }
  auto* nl = static_cast<char*>(std::memchr(base + scan_, '\n', end_ - scan_));
  if (nl != nullptr) {
    size_t len = static_cast<size_t>(nl - base) - start_;
    size_t content = len > 0 && base[start_ + len - 1] == '\r' ? len - 1 : len;
    Event e;
    if (static_cast<int64_t>(content) > max_) {
      e.kind = Kind::kOversize;
      e.bytes_seen = static_cast<int64_t>(content);
    } else {
      e.kind = Kind::kLine;
      e.line = std::string_view(base + start_, content);
    }
    start_ = scan_ = static_cast<size_t>(nl - base) + 1;
    return e;
  }
  scan_ = end_;
  int64_t pending = static_cast<int64_t>(end_ - start_);
  // A final '\r' may yet be followed by '\n', so it does not count against the limit.
  bool over = pending > max_ && !(pending == max_ + 1 && base[end_ - 1] == '\r');
  if (!over) return {};
  discarding_ = true;
  start_ = scan_ = end_ = 0;
  Event e;
  e.kind = Kind::kOversize;
  e.bytes_seen = pending;
  return e;
}

std::optional<std::string_view> LineFramer::take_tail() {
  if (discarding_ || start_ == end_) return std::nullopt;
  std::string_view tail(buf_.get() + start_, end_ - start_);
  if (tail.back() == '\r') tail.remove_suffix(1);
  start_ = scan_ = end_;
  return tail;
}

std::string_view LineFramer::take_raw(size_t max) {
  size_t n = std::min(max, end_ - start_);
  std::string_view raw(buf_.get() + start_, n);
  start_ += n;
  if (scan_ < start_) scan_ = start_;  // a '\n' inside the raw bytes ends no line
  return raw;
}

}  // namespace kreek::net
