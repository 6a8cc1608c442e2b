// Text tables for people: columns padded to the widest cell plus two spaces,
// the last column unpadded (ktopic describe, cluster, group describe).
#pragma once

#include <string>
#include <vector>

namespace kreek::cli {

// Appends `rows` to `out`, one line each.
void print_table(const std::vector<std::vector<std::string>>& rows, std::string& out);

}  // namespace kreek::cli
