// Which partition a produce lands on when the request names none: the Kafka
// partitioner for a batch whose records share one non-null key, round robin
// for keyless batches; a batch mixing keys is refused (it cannot be split
// without re-serialising, and one batch lives in one partition).
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "proto/json_scan.h"

namespace kreek::broker {

struct BatchKey {
  bool keyed = false;
  std::string key;  // decoded bytes (key64 decoded from base64)
};

// The key every record of validated records array `arr` shares.
// kInvalidRequest if records disagree (different keys, or keyed and keyless mixed).
Result<BatchKey> batch_key(const proto::JsonScan& scan, uint32_t arr);

// kInvalidRecord naming the first record of `arr` without a key (compacted
// topics keep the newest record per key, so a keyless one has no place).
Status require_keys(const proto::JsonScan& scan, uint32_t arr, const std::string& topic);

// partition_for_key for keyed batches; otherwise `round_robin`++ % partitions.
int32_t choose_partition(const BatchKey& key, int32_t partitions, uint32_t& round_robin);

}  // namespace kreek::broker
