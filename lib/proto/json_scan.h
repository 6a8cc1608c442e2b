// JsonScan: a validating, allocation-light JSON scanner for the hot paths
// (produce validation in the broker, fetch decoding in kconsume). One pass over
// a line yields a flat token list with byte spans into the input, so callers can
// checksum or forward the exact bytes of a value without re-serialising it.
// nlohmann/json remains the tool for everything else (requests, metadata).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kreek::proto {

enum class TokType : uint8_t { kObject, kArray, kString, kNumber, kTrue, kFalse, kNull };

struct Token {
  TokType type;
  bool has_escapes = false;  // strings only: true if the raw text holds a backslash
  uint32_t start = 0;        // byte offset of the first byte of the value ('{', '[', '"', digit...)
  uint32_t end = 0;          // one past the last byte ('}', ']', closing '"', last digit)
  uint32_t size = 0;         // objects: number of keys; arrays: number of elements
  uint32_t next = 0;         // index of the token after this value and all its children
};
// Layout: tokens in document order. An object's children alternate key (string
// token), value; a container's first child is at index+1; skip a whole value
// with `next`.

struct ScanLimits {
  uint32_t max_depth = 64;
  uint32_t max_tokens = 1u << 24;
};

class JsonScan {
 public:
  // Scans `text` (which must outlive the scan). Strict RFC 8259: one value,
  // optional surrounding whitespace, valid UTF-8 everywhere (no overlongs, no
  // surrogates), no control characters inside strings, no object with the
  // same key twice (compared after unescaping: nlohmann keeps the last of
  // duplicates and this scanner's find() the first, so neither may decide
  // what a request means). On failure returns
  // kInvalidRequest with a message naming the 0-based byte offset
  // ("invalid JSON at byte 17: unterminated string"); tokens() is then unspecified.
  // Numbers are checked against the grammar only (any magnitude is accepted).
  Status scan(std::string_view text, const ScanLimits& limits = {});

  const std::vector<Token>& tokens() const { return tokens_; }
  const Token& at(uint32_t i) const { return tokens_[i]; }
  std::string_view text() const { return text_; }
  // The exact bytes of token i, quotes included for strings.
  std::string_view raw(uint32_t i) const {
    return text_.substr(tokens_[i].start, tokens_[i].end - tokens_[i].start);
  }

  // Object lookup: index of the value for `key` (compared after unescaping) in
  // object token `obj`, or -1 (scan() refused duplicate keys).
  int64_t find(uint32_t obj, std::string_view key) const;
  // Appends the unescaped contents of string token i to `out`.
  void append_string(uint32_t i, std::string& out) const;
  std::string get_string(uint32_t i) const {
    std::string s;
    append_string(i, s);
    return s;
  }
  // Integer value of number token i; false if it is not an integer in int64 range.
  bool get_int(uint32_t i, int64_t& out) const;

 private:
  std::string_view text_;
  std::vector<Token> tokens_;    // reused across scans: no allocation in steady state
  std::vector<uint32_t> stack_;  // open containers during a scan, reused likewise
  // Whether object token `obj` (closed) repeats a key; 0, or the byte offset of the repeat.
  uint32_t duplicate_key_at(uint32_t obj);
  std::vector<std::pair<std::string_view, uint32_t>> keys_;  // scratch for duplicate_key_at
  std::vector<std::string> unescaped_;
};

// True if `s` is valid UTF-8 (the same rules the scanner applies).
bool is_valid_utf8(std::string_view s);
// Appends `s` as a JSON string literal (quotes included): escapes `"`, `\\` and
// control characters, copies everything else, so equal input gives equal bytes.
// `s` should be valid UTF-8; each byte of an invalid sequence becomes U+FFFD so
// the output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

}  // namespace kreek::proto
