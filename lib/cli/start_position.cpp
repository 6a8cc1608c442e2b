// --from parsing. Bare digits are an offset (never a duration in ms), so
// "--from 100" reads from offset 100 as a Kafka user expects.
#include "cli/start_position.h"

#include <cctype>
#include <string>

#include "base/clock.h"

namespace kreek::cli {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int64_t to_int(std::string_view s) {
  int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

}  // namespace

Result<StartPosition> parse_start_position(std::string_view text, int64_t now_ms) {
  using Kind = StartPosition::Kind;
  if (text == "beginning" || text == "earliest") return StartPosition{Kind::kBeginning, 0};
  if (text == "end" || text == "latest") return StartPosition{Kind::kEnd, 0};
  if (all_digits(text)) return StartPosition{Kind::kOffset, to_int(text)};
  if (!text.empty() && text[0] == '@' && all_digits(text.substr(1)))
    return StartPosition{Kind::kTime, to_int(text.substr(1))};
  if (auto ms = parse_iso8601(text)) return StartPosition{Kind::kTime, *ms};
  // A duration needs its unit, so "15" above stayed an offset.
  if (!text.empty() && std::isalpha(static_cast<unsigned char>(text.back()))) {
    if (auto d = parse_duration_ms(text); d && *d >= 0)
      return StartPosition{Kind::kTime, now_ms - *d};
  }
  return invalid_request("bad --from \"" + std::string(text) +
                         "\": want beginning, end, an offset, @unix-ms, an ISO 8601 time or a "
                         "duration like 15m");
}

}  // namespace kreek::cli
