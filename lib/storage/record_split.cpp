// A minimal JSON walker over records arrays; see record_split.h. Strings with
// escapes are rare (the producer writes plain UTF-8) and go to nlohmann/json.
#include "storage/record_split.h"

#include <nlohmann/json.hpp>

namespace kreek::storage {
namespace {

class Walker {
 public:
  explicit Walker(std::string_view s) : s_(s) {}

  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  char peek() {
    ws();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  // A string token starting at i_; sets [start, end) to its bytes with quotes.
  bool string(size_t& start, size_t& end, bool& escaped) {
    ws();
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    start = i_++;
    escaped = false;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '\\') {
        escaped = true;
        ++i_;
      } else if (c == '"') {
        end = i_;
        return i_ <= s_.size();
      }
    }
    return false;
  }
  // Skips any value (nested objects and arrays included).
  bool value() {
    char c = peek();
    if (c == '"') {
      size_t a, b;
      bool e;
      return string(a, b, e);
    }
    if (c == '{' || c == '[') {
      int depth = 0;
      while (i_ < s_.size()) {
        char d = s_[i_];
        if (d == '"') {
          size_t a, b;
          bool e;
          if (!string(a, b, e)) return false;
          continue;
        }
        ++i_;
        if (d == '{' || d == '[') ++depth;
        if (d == '}' || d == ']') {
          if (--depth == 0) return true;
        }
      }
      return false;
    }
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']' && s_[i_] != ' ') ++i_;
    return i_ > start;
  }
  size_t pos() const { return i_; }
  std::string_view text(size_t a, size_t b) const { return s_.substr(a, b - a); }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

// The bytes a JSON string token (quotes included) stands for.
bool unquote(std::string_view token, bool escaped, std::string& out) {
  if (!escaped) {
    out.assign(token.substr(1, token.size() - 2));
    return true;
  }
  auto j = nlohmann::json::parse(token, nullptr, false);
  if (j.is_discarded() || !j.is_string()) return false;
  out = j.get<std::string>();
  return true;
}

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool base64_decode(std::string_view text, std::string& out) {
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    int v = b64_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

Status bad(size_t pos, const char* what) {
  std::string m = "records array: ";
  m += what;
  m += " at byte ";
  m += std::to_string(pos);
  return corrupt(m);
}

}  // namespace

Status split_records(std::string_view array, std::vector<RecordSpan>& out) {
  size_t used = 0;
  Walker w(array);
  if (!w.eat('[')) return bad(0, "no opening '['");
  if (w.eat(']')) {
    out.resize(0);
    return Status::ok();
  }
  std::string name, scratch;
  do {
    if (used == out.size()) out.emplace_back();
    RecordSpan& r = out[used++];
    r.keyed = false;
    r.tombstone = true;
    r.key.clear();
    if (w.peek() != '{') return bad(w.pos(), "a record is not an object");
    r.begin = w.pos();
    w.eat('{');
    if (!w.eat('}')) {
      do {
        size_t ns, ne;
        bool nesc;
        if (!w.string(ns, ne, nesc) || !unquote(w.text(ns, ne), nesc, name))
          return bad(w.pos(), "bad member name");
        if (!w.eat(':')) return bad(w.pos(), "no ':'");
        bool is_key = name == "key", is_key64 = name == "key64";
        bool is_value = name == "value" || name == "value64";
        if ((is_key || is_key64) && w.peek() == '"') {
          size_t vs, ve;
          bool vesc;
          if (!w.string(vs, ve, vesc) || !unquote(w.text(vs, ve), vesc, scratch))
            return bad(w.pos(), "bad key");
          if (is_key64 && !base64_decode(std::string(scratch), scratch)) return bad(vs, "bad key64");
          r.keyed = true;
          r.key = scratch;
          continue;
        }
        if (is_value && w.peek() != 'n') r.tombstone = false;  // anything but null
        if (!w.value()) return bad(w.pos(), "bad value");
      } while (w.eat(','));
      if (!w.eat('}')) return bad(w.pos(), "no closing '}'");
    }
    r.end = w.pos();
  } while (w.eat(','));
  if (!w.eat(']')) return bad(w.pos(), "no closing ']'");
  out.resize(used);
  return Status::ok();
}

}  // namespace kreek::storage
