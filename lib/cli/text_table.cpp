// Text tables for people (see text_table.h).
#include "cli/text_table.h"

#include <algorithm>

namespace kreek::cli {
namespace {

std::string pad(const std::string& s, size_t w) { return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' '); }

}  // namespace

void print_table(const std::vector<std::vector<std::string>>& rows, std::string& out) {
  std::vector<size_t> widths;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], r[i].size() + 2);
    }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) line += i + 1 == r.size() ? r[i] : pad(r[i], widths[i]);
    out += line + "\n";
  }
}

}  // namespace kreek::cli
