// Compactor: the owner-thread halves of a compaction — deciding whether a log
// is due, planning over its closed segments, and swapping the result in (or
// abandoning it). The worker half, CompactionPlan::run, is compactor_run.cpp.
#include "storage/compactor.h"

#include <sys/stat.h>

#include <algorithm>

#include "base/atomic_file.h"
#include "base/clock.h"
#include "storage/partition_log.h"
#include "storage/segment.h"
#include "storage/segment_swap.h"

namespace kreek::storage {
namespace {

// After a failed run, the log is not tried again for this long.
constexpr int64_t kRetryAfterErrorMs = 5 * 60 * 1000;

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

size_t Compactor::cleanable_segments(const PartitionLog& log) {
  // Closed segments wholly below the high watermark (Kafka's first
  // uncleanable offset): a follower may still truncate above it, and a
  // record not yet replicated must not be removed on the leader alone.
  size_t n = 0;
  while (n + 1 < log.segments_.size() && log.segments_[n + 1]->base() <= log.high_watermark_) ++n;
  return n;
}

Cleanable Compactor::assess(const PartitionLog& log, TimestampMs now) {
  Cleanable c;
  const LogConfig& cfg = log.config_;
  if (!cfg.cleanup_compact) return c;
  const CleanerState& st = log.cleaner_;
  for (size_t i = 0; i < cleanable_segments(log); ++i) {
    const Segment& s = *log.segments_[i];
    if (s.end() <= st.cleaned_to) {
      c.clean_bytes += s.size();
    } else {
      c.dirty_bytes += s.size();
    }
  }
  int64_t total = c.clean_bytes + c.dirty_bytes;
  c.dirty_ratio = total > 0 ? static_cast<double>(c.dirty_bytes) / static_cast<double>(total) : 0;
  c.tombstones_due = st.oldest_tombstone.value() >= 0 && cfg.delete_retention_ms != kNever &&
                     now.value() - st.oldest_tombstone.value() > cfg.delete_retention_ms;
  bool worth = (c.dirty_bytes > 0 && c.dirty_ratio > cfg.min_cleanable_dirty_ratio) || c.tombstones_due;
  c.due = worth && now.value() >= st.not_before_ms;
  return c;
}

std::shared_ptr<CompactionPlan> Compactor::begin(PartitionLog& log, TimestampMs now,
                                                 const CompactionOptions& options) {
  if (!log.config_.cleanup_compact || cleanable_segments(log) == 0) return nullptr;
  auto plan = std::make_shared<CompactionPlan>();
  plan->dir_ = log.dir_;
  plan->config_ = log.config_;
  plan->options_ = options;
  plan->now_ = now.value();
  plan->cleaned_to_ = log.cleaner_.cleaned_to;
  plan->layout_version_ = log.cleaner_.layout_version;
  plan->tombstones_due_ = assess(log, now).tombstones_due;
  // Every closed segment below the high watermark; never the active (last) one.
  for (size_t i = 0; i < cleanable_segments(log); ++i) {
    const auto& s = log.segments_[i];
    plan->sources_.push_back(
        CompactionPlan::Source{s->base(), s->end(), segment_path(log.dir_, s->base(), ".log"), s->size(), s});
  }
  size_t d = 0;
  while (d < plan->sources_.size() && plan->sources_[d].end <= plan->cleaned_to_) ++d;
  plan->first_dirty_ = d;
  return plan;
}

void CompactionPlan::remove_outputs(const Group& g) const {
  Offset base = sources_[g.first].base;
  for (std::string_view ext : {".log", ".index", ".timeindex"})
    (void)::unlink((segment_path(dir_, base, ext) + std::string(kCleanedSuffix)).c_str());
}

Result<CompactionResult> Compactor::end(PartitionLog* log, CompactionPlan& plan) {
  CompactionResult out;
  out.stats = plan.stats_;
  auto discard = [&](std::string why) {
    for (const auto& g : plan.groups_)
      if (g.changed) plan.remove_outputs(g);
    out.outcome = CompactionOutcome::kAbandoned;
    out.why = std::move(why);
    return out;
  };
  if (log == nullptr) return discard("the topic was deleted");
  if (plan.cancelled_) return discard("it was cancelled");
  if (!plan.status_.is_ok()) {
    for (const auto& g : plan.groups_)
      if (g.changed) plan.remove_outputs(g);
    log->cleaner_.not_before_ms = clock::now_ms() + kRetryAfterErrorMs;
    return plan.status_;
  }
  if (!log->config_.cleanup_compact) return discard("cleanup.policy no longer holds compact");
  if (log->cleaner_.layout_version != plan.layout_version_) return discard("the log was truncated");
  // The log must still begin with the very segments the plan read.
  if (log->segments_.size() <= plan.used_) return discard("retention deleted segments");
  for (size_t i = 0; i < plan.used_; ++i)
    if (log->segments_[i] != plan.sources_[i].seg) return discard("retention deleted segments");

  CleanerState& st = log->cleaner_;
  if (!plan.ran_ || plan.used_ == 0) {
    if (plan.lag_blocked_until_ > 0) st.not_before_ms = plan.lag_blocked_until_;
    out.outcome = CompactionOutcome::kNothingToDo;
    return out;
  }

  // Swap group by group, oldest first: a crash between two groups leaves the
  // older one cleaned and the newer one whole, which is consistent (a value
  // removed from the older one is superseded by a record the newer one keeps).
  std::vector<std::shared_ptr<Segment>> next;
  Status failed;
  size_t g = 0;
  for (; g < plan.groups_.size(); ++g) {
    const CompactionPlan::Group& grp = plan.groups_[g];
    if (!grp.changed) {
      for (size_t i = grp.first; i <= grp.last; ++i) next.push_back(plan.sources_[i].seg);
      continue;
    }
    SegmentSwap swap{plan.dir_, {}};
    for (size_t i = grp.first; i <= grp.last; ++i) swap.members.push_back(plan.sources_[i].base);
    Offset base = plan.sources_[grp.first].base, end = plan.sources_[grp.last].end;
    if (plan.options_.simulate_crash_after_swap_steps >= 0) {
      (void)swap_in_cleaned(swap, plan.options_.simulate_crash_after_swap_steps);
      return Status(Code::kInternal, "simulated crash during the swap");
    }
    Status s = swap_in_cleaned(swap);
    bool live = s.is_ok();
    if (!s.is_ok()) {
      // The swap is committed once <base>.log.swap exists; make the directory
      // consistent the way start-up would, then mirror it in memory.
      live = file_exists(segment_path(plan.dir_, base, ".log") + std::string(kSwapSuffix));
      auto fixed = finish_interrupted_swap(plan.dir_);
      failed = fixed.is_ok() ? s : fixed.status();
    }
    if (live) {
      auto seg = Segment::open_closed(plan.dir_, base, end, plan.config_.index_interval_bytes);
      if (!seg.is_ok()) return seg.status();
      (*seg)->allow_gaps(true);
      next.push_back(std::move(*seg));
    } else {
      for (size_t i = grp.first; i <= grp.last; ++i) next.push_back(plan.sources_[i].seg);
    }
    if (!failed.is_ok()) break;
  }
  if (!failed.is_ok()) {
    for (++g; g < plan.groups_.size(); ++g) {
      const CompactionPlan::Group& grp = plan.groups_[g];
      for (size_t i = grp.first; i <= grp.last; ++i) next.push_back(plan.sources_[i].seg);
    }
  }
  for (size_t i = plan.used_; i < log->segments_.size(); ++i) next.push_back(log->segments_[i]);
  log->segments_ = std::move(next);
  if (!failed.is_ok()) {
    st.not_before_ms = clock::now_ms() + kRetryAfterErrorMs;
    return failed;
  }

  bool any = false;
  for (const auto& grp : plan.groups_) any = any || grp.changed;
  st.cleaned_to = plan.sources_[plan.used_ - 1].end;
  st.oldest_tombstone = plan.oldest_tombstone_;
  if (plan.lag_blocked_until_ > 0) st.not_before_ms = plan.lag_blocked_until_;
  st.last_run_ms = plan.now_;
  st.last = plan.stats_;
  if (any) ++st.runs;
  out.outcome = any ? CompactionOutcome::kSwapped : CompactionOutcome::kUnchanged;
  return out;
}

void Compactor::restore(PartitionLog& log, Offset cleaned_to, TimestampMs oldest_tombstone) {
  // Records appended after a crash cut the log back are not clean.
  log.cleaner_.cleaned_to = std::clamp(cleaned_to, Offset(0), log.log_end());
  log.cleaner_.oldest_tombstone = oldest_tombstone;
}

Result<CompactionResult> Compactor::compact_now(PartitionLog& log, TimestampMs now,
                                                const CompactionOptions& options) {
  auto plan = begin(log, now, options);
  if (!plan) return CompactionResult{};
  (void)plan->run();  // its status is end()'s to report
  KREEK_ASSIGN_OR_RETURN(CompactionResult r, end(&log, *plan));
  if (r.outcome == CompactionOutcome::kSwapped) KREEK_RETURN_IF_ERROR(sync_dir(plan->dir()));
  return r;
}

}  // namespace kreek::storage
