// Record splitting for the compactor: cuts a stored records array into its
// record objects (byte ranges, so survivors are re-emitted verbatim) and says
// which key each has and whether it is a tombstone. Storage may not depend on
// lib/proto, so this is a small scanner for the shape the broker validated on
// produce (kreek-protocol(7)); anything else is kCorrupt, never a crash.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kreek::storage {

struct RecordSpan {
  size_t begin = 0;  // the object's bytes within the array: [begin, end)
  size_t end = 0;
  bool keyed = false;      // "key" or "key64" holds a string
  bool tombstone = false;  // no value: "value" and "value64" absent or null
  // The key's bytes, decoded ("key" unescaped, "key64" from base64), so one
  // key written two ways is still one key.
  std::string key;
};

// Fills `out` (reusing its elements' capacity) with the records of `array`,
// which must be a JSON array of objects ('[' ... ']').
Status split_records(std::string_view array, std::vector<RecordSpan>& out);

}  // namespace kreek::storage
