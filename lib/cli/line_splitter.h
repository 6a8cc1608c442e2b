// LineSplitter: turns a stream of read() chunks into lines for kproduce.
// Lines are handed out as views into the chunk when they lie inside it (the
// common case: no copy); only a line split across reads is assembled in a
// carry buffer. The '\n' is stripped and nothing else (a '\r' stays), and a
// final line without '\n' is still a line (finish()).
#pragma once

#include <cstring>
#include <string>
#include <string_view>

namespace kreek::cli {

class LineSplitter {
 public:
  // Calls on_line(std::string_view) for each complete line in `chunk`.
  template <typename F>
  void feed(std::string_view chunk, F&& on_line) {
    while (!chunk.empty()) {
      const void* nl = std::memchr(chunk.data(), '\n', chunk.size());
      if (nl == nullptr) {
        carry_.append(chunk);
        has_carry_ = true;
        return;
      }
      size_t len = static_cast<size_t>(static_cast<const char*>(nl) - chunk.data());
      if (has_carry_) {
        carry_.append(chunk.data(), len);
        on_line(std::string_view(carry_));
        carry_.clear();
        has_carry_ = false;
      } else {
        on_line(chunk.substr(0, len));
      }
      chunk.remove_prefix(len + 1);
    }
  }

  // End of input: the last line if it had no '\n'.
  template <typename F>
  void finish(F&& on_line) {
    if (has_carry_ && !carry_.empty()) on_line(std::string_view(carry_));
    carry_.clear();
    has_carry_ = false;
  }

 private:
  std::string carry_;
  bool has_carry_ = false;
};

}  // namespace kreek::cli
