// int_field: type and range checks before any conversion.
#include "client/json_field.h"

#include <limits>
#include <string>

namespace kreek::client {

Result<int64_t> int_field(const proto::Json& j, std::string_view what, const char* key, int64_t lo,
                          int64_t hi, std::optional<int64_t> fallback) {
  auto bad = [&](std::string_view why) {
    std::string m = "malformed ";
    m += what;
    m += ": \"";
    m += key;
    m += "\" ";
    m += why;
    return Status(Code::kProtocol, std::move(m));
  };
  auto it = j.is_object() ? j.find(key) : j.end();
  if (!j.is_object() || it == j.end()) {
    if (fallback) return *fallback;
    return bad("is missing");
  }
  const std::string range = "is not an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  // Only integers convert: a float (even 3.0) or a string is refused before any cast.
  if (it->is_number_unsigned()) {
    const uint64_t u = it->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) || static_cast<int64_t>(u) > hi ||
        static_cast<int64_t>(u) < lo)
      return bad(range);
    return static_cast<int64_t>(u);
  }
  if (!it->is_number_integer()) return bad(range);
  const int64_t v = it->get<int64_t>();
  if (v < lo || v > hi) return bad(range);
  return v;
}

}  // namespace kreek::client
