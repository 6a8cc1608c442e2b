// ProducerState: what one partition knows about its idempotent producers — per
// producer id its epoch and the offsets and sequence numbers of its last few
// batches — so a leader can tell a retried batch it already wrote (answer with
// the original offsets) from a new one and from a gap. Pure: no I/O, no clock;
// rebuilt by replaying batch headers, saved as a small JSON snapshot.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "base/status.h"
#include "base/strong_id.h"
#include "storage/batch_format.h"

namespace kreek::storage {

// The file in a partition directory that saves ProducerState across restarts.
inline constexpr std::string_view kProducerSnapshotName = "producer-snapshot";

// The producer fields a leader stamps on an appended batch (a v2 head);
// the default, pid -1, appends a plain v1 batch.
struct ProducerFields {
  int64_t pid = kNoProducerId;
  int16_t pepoch = 0;
  int32_t seq = 0;
};

// Kafka's max.in.flight.requests.per.connection limit for idempotence: a
// retry can only be of one of the last this many batches of its producer.
inline constexpr size_t kProducerBatchesKept = 5;

// The sequence number after `seq`: sequences wrap from INT32_MAX to 0 (Kafka).
int32_t next_sequence(int32_t seq);
// The sequence number of the last of `n` records starting at `seq`.
int32_t last_sequence(int32_t seq, int32_t n);

struct ProducerBatch {
  int32_t first_seq = 0;
  int32_t last_seq = 0;
  Offset base;
  Offset last;
};

struct ProducerEntry {
  int16_t pepoch = 0;
  std::deque<ProducerBatch> batches;  // oldest first, at most kProducerBatchesKept
};

// What check() decided for a batch that may be appended.
struct SequenceCheck {
  bool duplicate = false;  // already in the log: do not append, answer with these offsets
  Offset base;             // the original batch's offsets (duplicate only)
  Offset last;
};

class ProducerState {
 public:
  // Whether a batch of `n` records from producer `pid` at epoch `pepoch` whose
  // first record has sequence `seq` may be appended:
  //   ok, duplicate=false - new: append it (an unknown pid may start anywhere:
  //                         its earlier batches may have been deleted by retention)
  //   ok, duplicate=true  - one of the last kProducerBatchesKept batches again
  //   kFencedEpoch        - pepoch is older than the producer's current epoch
  //   kOutOfOrderSequence - seq is not the one after the last batch's (a gap,
  //                         or an old batch beyond those kept); a new epoch must start at 0
  Result<SequenceCheck> check(int64_t pid, int16_t pepoch, int32_t seq, int32_t n) const;

  // Takes in a batch that is now in the log (appended here, replicated from a
  // leader, or replayed at start-up). Batches without a pid are ignored. The
  // log is the authority, so this never refuses: a new epoch starts afresh.
  void update(const BatchHeader& h);

  const ProducerEntry* find(int64_t pid) const;
  size_t size() const { return producers_.size(); }
  bool empty() const { return producers_.empty(); }
  void clear() { producers_.clear(); }
  bool operator==(const ProducerState& o) const;

  // Snapshot file text (kreek-format(5), "producer-snapshot"): the state as of
  // every batch below `offset`.
  //   {"version":1,"offset":X,"producers":[{"pid":P,"pepoch":E,"batches":[[first_seq,last_seq,base,last],...]},...]}
  std::string encode_snapshot(Offset offset) const;
  // Parses a snapshot; `*offset` gets its offset. kCorrupt if malformed.
  static Result<ProducerState> decode_snapshot(std::string_view text, Offset* offset);

 private:
  std::map<int64_t, ProducerEntry> producers_;
};

}  // namespace kreek::storage
