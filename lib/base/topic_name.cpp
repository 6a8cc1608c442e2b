// Topic name validation (Kafka's rule; see topic_name.h).
#include "base/topic_name.h"

namespace kreek {

bool is_valid_topic_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxTopicNameLength) return false;
  // "." and ".." would be the partition directory's parent or itself.
  if (name == "." || name == "..") return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string topic_name_problem(std::string_view name) {
  if (is_valid_topic_name(name)) return {};
  if (name.size() > kMaxTopicNameLength)
    return "invalid topic name: " + std::to_string(name.size()) + " bytes, longer than " +
           std::to_string(kMaxTopicNameLength);
  return "invalid topic name \"" + std::string(name) + "\": use 1 to 249 of [A-Za-z0-9._-], not \".\" or \"..\"";
}

}  // namespace kreek
