// LogConfig: the per-topic settings of a partition log, under Kafka's names.
// A topic's config is the broker's defaults overridden by the keys it was
// created (or altered) with; kreek-format(5) and ktopic(1) list every key.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kreek::storage {

inline constexpr int64_t kNever = INT64_MAX;  // "-1" in Kafka's config means this

struct LogConfig {
  int64_t segment_bytes = 1LL << 30;              // segment.bytes: roll when a segment reaches it
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;    // segment.ms: roll a segment this old
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;  // retention.ms: delete closed segments older (kNever = keep)
  int64_t retention_bytes = kNever;               // retention.bytes: cap per partition (kNever = none)
  bool cleanup_delete = true;                     // cleanup.policy contains "delete"
  bool cleanup_compact = false;                   // cleanup.policy contains "compact"
  int64_t flush_messages = kNever;                // flush.messages: fsync after this many records (1 = always)
  int64_t flush_ms = kNever;                      // flush.ms: fsync data at most this old
  int64_t max_message_bytes = 1LL << 20;          // max.message.bytes: largest records array per batch
  int64_t delete_retention_ms = 24LL * 3600 * 1000;  // delete.retention.ms: keep tombstones this long
  int64_t min_compaction_lag_ms = 0;              // min.compaction.lag.ms
  double min_cleanable_dirty_ratio = 0.5;         // min.cleanable.dirty.ratio
  int64_t index_interval_bytes = 4096;            // index.interval.bytes: sparse index spacing
  int32_t min_insync_replicas = 1;                // min.insync.replicas (used with acks=all)
  // replica.lag.time.max.ms: a follower not caught up for this long leaves the ISR.
  // Kafka's default is 30 s for JVM pauses; a kreek broker has none (kbroker(1)).
  int64_t replica_lag_time_max_ms = 2000;
  // unclean.leader.election.enable: a replica outside the ISR may lead when no
  // ISR member is alive (availability over acknowledged data). The coordinator acts on it.
  bool unclean_leader_election = false;

  // True if flushing is due on every append (flush.messages=1).
  bool flush_always() const { return flush_messages == 1; }
};

// Validates and applies KEY=VALUE overrides on top of `base`. Unknown keys and
// bad values are kInvalidRequest naming the key: `retention.ms: "abc" is not an integer`.
Result<LogConfig> apply_overrides(LogConfig base, const std::map<std::string, std::string>& kv);
// The keys kreek accepts, for --help text, completions and validation.
const std::map<std::string_view, std::string_view>& config_key_docs();
// The effective value of every key, as strings in Kafka's form ("-1" for never).
std::map<std::string, std::string> describe(const LogConfig& c);

}  // namespace kreek::storage
