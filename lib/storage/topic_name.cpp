// Topic name validation (Kafka's rule; see topic_name.h).
#include "storage/topic_name.h"

namespace kreek::storage {

bool is_valid_topic_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxTopicNameLength || name == "." || name == "..") return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace kreek::storage
