// PartitionChooser: where the producer sends a record. A fixed partition (-p)
// wins; a keyed record goes where Kafka's default partitioner puts it
// (murmur2); keyless records stick to one partition until its batch is sent,
// then move to the next (Kafka's sticky partitioner, simplified to rotation),
// skipping partitions whose leader cannot be reached (as Kafka's does for
// keyless records when a partition has no leader).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "proto/partitioner.h"

namespace kreek::client {

class PartitionChooser {
 public:
  // `start` picks the first sticky partition (callers vary it per process).
  PartitionChooser(int32_t partitions, int32_t start)
      : partitions_(partitions), sticky_(partitions > 0 ? start % partitions : 0) {}

  int32_t choose(const std::optional<std::string>& key) const {
    return key ? proto::partition_for_key(*key, partitions_) : sticky_;
  }
  int32_t sticky() const { return sticky_; }
  // Moves the sticky partition to the next one (in rotation) that `is_free`
  // accepts, so keyless records avoid a partition whose leader is out of
  // reach; stays put when none is free. Returns the sticky partition.
  template <typename Pred>
  int32_t skip_to_free(Pred is_free) {
    for (int32_t i = 1; i <= partitions_; ++i) {
      int32_t p = (sticky_ + i) % partitions_;
      if (is_free(p)) return sticky_ = p;
    }
    return sticky_;
  }
  // A batch for `partition` was sent: if it was the sticky one, move on.
  void on_batch_sent(int32_t partition) {
    if (partition == sticky_ && partitions_ > 1) sticky_ = (sticky_ + 1) % partitions_;
  }

 private:
  int32_t partitions_;
  int32_t sticky_;
};

}  // namespace kreek::client
