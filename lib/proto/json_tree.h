// to_json(): the nlohmann value of a line JsonScan already validated, built
// from the scan's tokens, so a request is lexed once rather than scanned and
// then parsed again. Values match what nlohmann's own parser gives for the
// same text (integers as unsigned or signed 64-bit, else double; with a
// duplicated key the last value wins, in the first one's place).
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "proto/json_scan.h"

namespace kreek::proto {

// Token `i` of `scan` (after a successful scan) as a JSON value. kInvalidRequest
// for a number no double holds ("1e999"), as nlohmann's parser refuses it.
Result<nlohmann::ordered_json> to_json(const JsonScan& scan, uint32_t i = 0);

}  // namespace kreek::proto
