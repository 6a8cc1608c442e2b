// The broker's log cleaner loop; see compaction_scheduler.h.
#include "broker/compaction_scheduler.h"

#include <cstdio>

#include "base/atomic_file.h"
#include "base/clock.h"
#include "base/log.h"
#include "broker/broker_context.h"
#include "storage/compactor.h"
#include "storage/partition_log.h"

namespace kreek::broker {
namespace {

std::string where(const std::string& topic, PartitionId p) {
  return topic + "/" + std::to_string(p.value());
}

std::string human_bytes(int64_t n) {
  char buf[32];
  if (n < 1024) {
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(n));
  } else if (n < (1 << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", n / 1024.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB", n / 1048576.0);
  }
  return buf;
}

}  // namespace

CompactionScheduler::CompactionScheduler(BrokerContext& ctx) : ctx_(ctx) {}
CompactionScheduler::~CompactionScheduler() = default;

void CompactionScheduler::tick() {
  if (checkpoint_pending_ && !writing_) write_next();
  if (job_ || stopped_ || ctx_.stopping) return;
  TimestampMs now(clock::now_ms());
  const storage::LogManager::Entry* best = nullptr;
  double best_ratio = -1;
  auto entries = ctx_.logs.logs();
  for (const auto& e : entries) {
    if (!e.log->config().cleanup_compact) continue;
    storage::Cleanable c = storage::Compactor::assess(*e.log, now);
    if (!c.due) continue;
    // Expired tombstones alone make a log due; rank it as fully dirty then.
    double ratio = c.tombstones_due ? 1.0 + c.dirty_ratio : c.dirty_ratio;
    if (ratio > best_ratio) {
      best_ratio = ratio;
      best = &e;
    }
  }
  if (best != nullptr) start(best->topic->name, best->partition);
}

void CompactionScheduler::start(const std::string& topic, PartitionId p) {
  storage::PartitionLog* log = ctx_.logs.log(topic, p);
  if (log == nullptr) return;
  auto plan = storage::Compactor::begin(*log, TimestampMs(clock::now_ms()));
  if (!plan) return;
  job_ = std::make_shared<Job>(Job{topic, p, plan});
  if (ctx_.loop == nullptr) {  // unit tests: all on this thread
    (void)plan->run();
    finish();
    return;
  }
  ctx_.loop->queue_work([plan] { (void)plan->run(); }, [this] { finish(); });
}

void CompactionScheduler::finish() {
  auto job = std::move(job_);
  job_.reset();
  const std::string w = where(job->topic, job->partition);
  storage::PartitionLog* log = ctx_.logs.log(job->topic, job->partition);
  if (stopped_) job->plan->cancel();
  auto r = storage::Compactor::end(log, *job->plan);
  if (!r.is_ok()) {
    log::error("compaction of " + w + " failed: " + r.status().message() +
               "; the log is unchanged from its last good state and is retried later");
    return;
  }
  const storage::CompactionStats& s = r->stats;
  switch (r->outcome) {
    case storage::CompactionOutcome::kSwapped: {
      log::info("compacted " + w + " offsets [" + std::to_string(s.start.value()) + ", " +
                std::to_string(s.end.value()) + "): " + std::to_string(s.records_before) +
                " -> " + std::to_string(s.records_after) + " records, " +
                human_bytes(s.bytes_before) + " -> " + human_bytes(s.bytes_after) + ", " +
                std::to_string(s.segments_before) + " -> " + std::to_string(s.segments_after) +
                " segment(s), " + std::to_string(s.tombstones_removed) + " tombstone(s) removed, " +
                std::to_string(s.run_ms) + " ms");
      persist(job->plan->dir());
      break;
    }
    case storage::CompactionOutcome::kUnchanged:
      log::debug("compaction of " + w + ": nothing to remove in offsets [" +
                 std::to_string(s.start.value()) + ", " + std::to_string(s.end.value()) + ")");
      persist("");
      break;
    case storage::CompactionOutcome::kNothingToDo:
      log::debug("compaction of " + w + ": nothing cleanable yet (min.compaction.lag.ms)");
      break;
    case storage::CompactionOutcome::kAbandoned:
      if (!stopped_) log::info("compaction of " + w + " abandoned: " + r->why);
      break;
  }
  // Another partition may be due already: no need to wait a whole interval.
  if (!stopped_ && !ctx_.stopping && ctx_.loop != nullptr) tick();
}

void CompactionScheduler::persist(std::string dir) {
  if (!dir.empty()) dirs_to_sync_.push_back(std::move(dir));
  checkpoint_pending_ = true;
  if (!writing_) write_next();
}

void CompactionScheduler::write_next() {
  if (!checkpoint_pending_) return;
  checkpoint_pending_ = false;
  auto dirs = std::move(dirs_to_sync_);
  dirs_to_sync_.clear();
  std::string contents = ctx_.logs.cleaner_checkpoint_contents();
  storage::LogManager* logs = &ctx_.logs;
  // The checkpoint follows the directory fsync: it never claims a compaction
  // whose renames a crash could still undo.
  auto work = [dirs, contents, logs] {
    for (const auto& dir : dirs) {
      Status st = sync_dir(dir);
      if (!st.is_ok() && st.code() != Code::kNotFound)
        log::warn("fsync " + dir + " after compaction: " + st.message());
    }
    Status st = logs->write_cleaner_checkpoint(contents);
    if (!st.is_ok()) log::warn("write cleaner checkpoint: " + st.message());
  };
  if (ctx_.loop == nullptr) {
    work();
    return;
  }
  writing_ = true;
  ctx_.loop->queue_work(std::move(work), [this] {
    writing_ = false;
    write_next();
  });
}

void CompactionScheduler::forget_topic(const std::string& topic) {
  if (job_ && job_->topic == topic) job_->plan->cancel();
  // A topic created later under the same name must not inherit its position.
  persist("");
}

void CompactionScheduler::forget_partition(const std::string& topic, PartitionId p) {
  if (job_ && job_->topic == topic && job_->partition == p) job_->plan->cancel();
  // The checkpoint is rewritten without the log's position at the next tick,
  // which comes after the log is gone (its contents are read from the logs).
  checkpoint_pending_ = true;
}

void CompactionScheduler::stop() {
  stopped_ = true;
  if (job_) job_->plan->cancel();
}

}  // namespace kreek::broker
