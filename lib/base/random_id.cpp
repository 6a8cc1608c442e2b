// 128-bit random ids; see random_id.h.
#include "base/random_id.h"

#include <cstdio>
#include <random>

namespace kreek {

std::string random_id() {
  std::random_device rd;  // getrandom(2) / /dev/urandom on Linux
  std::string out;
  char buf[9];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
    out += buf;
  }
  return out;
}

}  // namespace kreek
