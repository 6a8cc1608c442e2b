// int_field: type and range checks before any conversion.
#include "client/json_field.h"

#include <string>

#include "base/json_value.h"

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
  // Only integers convert: a float (even 3.0) or a string is refused before any cast.
  std::optional<int64_t> v = json_int_in(*it, lo, hi);
  if (!v) return bad("is not an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return *v;
}

}  // namespace kreek::client
