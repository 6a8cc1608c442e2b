// LeaderEpochCache: a partition's leader epoch history (KIP-101/279), epoch ->
// the offset of its first record, and the codec of the leader-epoch-checkpoint
// file that keeps it. Pure: the caller reads and writes the file, so the same
// class serves the broker, the tests and the replication simulation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/strong_id.h"

namespace kreek::storage {

// Where an epoch ended in some replica's log. {-1,-1}: unknown (no epoch <= the
// one asked for).
struct EpochEnd {
  LeaderEpoch epoch{-1};
  Offset end{-1};
  bool operator==(const EpochEnd&) const = default;
};

// Invariant: entries are strictly increasing in both epoch and start offset.
class LeaderEpochCache {
 public:
  struct Entry {
    LeaderEpoch epoch;
    Offset start;
    bool operator==(const Entry&) const = default;
  };

  // `epoch` starts at `start`. Same epoch as the latest: no-op (returns false).
  // An epoch below the latest, or a start below the latest entry's start:
  // kCorrupt (the caller refuses the append). A later epoch whose start equals
  // the latest entry's start replaces it (that epoch wrote no records).
  // Returns true if an entry was added or changed.
  Result<bool> assign(LeaderEpoch epoch, Offset start);

  // KIP-101/279: the largest epoch <= e and where it ends: the next entry's
  // start, or `log_end` if it is the latest. {-1,-1} if every entry's epoch is
  // > e or the cache is empty.
  EpochEnd end_offset_for(LeaderEpoch e, Offset log_end) const;

  // The log was truncated to `end`: drop entries with start >= end.
  void truncate_from_end(Offset end);
  // Retention moved the log start to `start`: drop entries wholly before it
  // and clamp the first remaining one's start up to `start`. The latest entry
  // is never dropped (its epoch runs to the log end).
  void truncate_from_start(Offset start);
  void clear();

  LeaderEpoch latest_epoch() const;  // -1 if empty
  const std::vector<Entry>& entries() const { return entries_; }

  // <partition dir>/leader-epoch-checkpoint in Kafka's text format:
  //   0\n<count>\n<epoch> <start>\n ...
  // decode: kCorrupt naming the first line that is off (version, count, a
  // malformed or out-of-order entry, missing or extra lines).
  std::string encode() const;
  static Result<LeaderEpochCache> decode(std::string_view text);

 private:
  std::vector<Entry> entries_;
};

}  // namespace kreek::storage
