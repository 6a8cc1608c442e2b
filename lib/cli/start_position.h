// --from for kconsume: where each partition starts reading.
//   beginning | earliest      the log start
//   end | latest              the log end (only new records)
//   123                       that offset
//   @1700000000000            the first record appended at or after that unix ms
//   2025-01-02T03:04:05Z      likewise, ISO 8601 (no zone = UTC)
//   15m, 2h, 7d, 30s, 250ms   likewise, that long ago
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace kreek::cli {

struct StartPosition {
  enum class Kind { kBeginning, kEnd, kOffset, kTime };
  Kind kind = Kind::kBeginning;
  int64_t value = 0;  // the offset, or unix ms for kTime
};

// `now_ms` anchors durations. Errors: kInvalidRequest naming the text.
Result<StartPosition> parse_start_position(std::string_view text, int64_t now_ms);

}  // namespace kreek::cli
