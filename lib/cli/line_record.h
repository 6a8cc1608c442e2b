// LineRecordParser: one input line of kproduce -> one record, per the input
// flags: the whole line as value (default), a fixed key (-k), key and value
// split at the first separator (-K SEP), or a JSON envelope (--json, what
// kconsume --json prints). Headers from -H go on every record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "proto/json_scan.h"
#include "proto/record.h"

namespace kreek::cli {

struct LineFormat {
  std::optional<std::string> key;        // -k
  std::optional<std::string> separator;  // -K
  bool json = false;                     // --json
  std::vector<std::pair<std::string, std::string>> headers;  // -H
};

class LineRecordParser {
 public:
  explicit LineRecordParser(LineFormat format);

  // Fills `rec` (reused between calls: strings keep their capacity) from
  // `line`. For --json input, `partition` gets the envelope's "partition" if it
  // has one. Errors (--json only): kCorrupt "invalid JSON record: ...".
  Status parse(std::string_view line, proto::Record& rec, std::optional<int32_t>& partition);

 private:
  Status parse_json(std::string_view line, proto::Record& rec, std::optional<int32_t>& partition);

  LineFormat format_;
  proto::JsonScan scan_;
};

}  // namespace kreek::cli
