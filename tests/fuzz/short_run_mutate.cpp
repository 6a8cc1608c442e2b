// The mutations of the short fuzz run: byte-level ones (bit flips, random
// bytes, inserts, erases, binary integers), text-level ones aimed at kreek's
// JSON lines (numbers swapped for ones at the edge of a type, JSON tokens,
// quoted names borrowed from other inputs) and line-level ones (duplicate,
// drop, swap, cut), plus splices between inputs of the pool.
#include "short_run_mutate.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>

namespace kreek::fuzz {

namespace {

// Numbers at the edges of int32/int64/uint64/double and of JSON's grammar.
constexpr const char* kNumbers[] = {
    "0", "-0", "1", "-1", "2", "127", "128", "255", "256", "-128", "32767", "65535", "65536",
    "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967295", "4294967296",
    "9007199254740993", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "-9223372036854775809", "18446744073709551615", "18446744073709551616",
    "99999999999999999999999999999", "1e308", "1e309", "-1e309", "1e-400", "1.5", "-0.5", "1e3",
    "1E+2", "00", "01", "-", "0x10", "NaN", "Infinity", ".5", "5."};

// JSON structure, escapes and broken UTF-8 (std::string so "\0" keeps its length).
const std::string kTokens[] = {
    "{", "}", "[", "]", "\"", ":", ",", "null", "true", "false", "\"\"", "{}", "[]", "[[[[[[[[",
    "{\"\":{\"\":{\"\":", "\\", "\\\"", "\\u0000", "\\ud800", "\\udc00\\ud800", "\\n", "\n", "\r\n", "\r",
    "\t", " ", std::string("\0", 1), "\x7f", "\xff", "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80",
    "\xe2\x82", "\"a\":1", ",\"a\":1", "\"id\":", "\"op\":"};

void insert_at(std::string& s, size_t pos, std::string_view what) { s.insert(std::min(pos, s.size()), what); }

// [begin, end) of the line holding pos, without its '\n'.
std::pair<size_t, size_t> line_around(const std::string& s, size_t pos) {
  size_t b = s.rfind('\n', pos == 0 ? 0 : pos - 1);
  b = (b == std::string::npos || pos == 0) ? 0 : b + 1;
  size_t e = s.find('\n', pos);
  return {b, e == std::string::npos ? s.size() : e};
}

// A random "quoted" token of another input (field names, topic names, ops):
// a dictionary that follows the corpus.
std::string borrow_quoted(const std::vector<std::string>& pool, Rng& rng) {
  if (pool.empty()) return "\"x\"";
  const std::string& src = pool[rng.below(pool.size())];
  size_t q = src.find('"', rng.below(src.size() + 1));
  if (q == std::string::npos) q = src.find('"');
  if (q == std::string::npos) return "\"x\"";
  size_t end = src.find('"', q + 1);
  if (end == std::string::npos || end - q > 64) return "\"x\"";
  return src.substr(q, end - q + 1);
}

void replace_number(std::string& s, Rng& rng) {
  // Find a digit run from a random point (wrapping); else insert one.
  const char* num = kNumbers[rng.below(std::size(kNumbers))];
  size_t start = rng.below(s.size() + 1);
  size_t p = s.find_first_of("0123456789", start);
  if (p == std::string::npos) p = s.find_first_of("0123456789");
  if (p == std::string::npos) {
    insert_at(s, start, num);
    return;
  }
  size_t b = p, e = p;
  if (b > 0 && s[b - 1] == '-') --b;
  while (e < s.size() && (std::isdigit(static_cast<unsigned char>(s[e])) || s[e] == '.' || s[e] == 'e' ||
                          s[e] == 'E' || s[e] == '+' || s[e] == '-'))
    ++e;
  s.replace(b, e - b, num);
}

void binary_int(std::string& s, Rng& rng) {
  static constexpr uint64_t kInts[] = {0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
                                       0x80000000, 0xffffffff, 0x7fffffffffffffffULL, ~0ULL};
  uint64_t v = kInts[rng.below(std::size(kInts))];
  size_t width = size_t{1} << rng.below(4);
  char buf[8];
  for (size_t i = 0; i < width; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  if (rng.one_in(2)) std::reverse(buf, buf + width);
  size_t pos = rng.below(s.size() + 1);
  if (s.size() >= width && rng.one_in(2))
    s.replace(std::min(pos, s.size() - width), width, buf, width);
  else
    s.insert(pos, buf, width);
}

void mutate_once(std::string& s, const std::vector<std::string>& pool, Rng& rng) {
  const std::string& other = pool.empty() ? s : pool[rng.below(pool.size())];
  switch (rng.below(17)) {
    case 0:  // flip a bit
      if (!s.empty()) s[rng.below(s.size())] ^= static_cast<char>(1u << rng.below(8));
      break;
    case 1:  // a random byte
      if (!s.empty()) s[rng.below(s.size())] = static_cast<char>(rng.next());
      break;
    case 2: {  // insert random bytes
      size_t n = 1 + rng.below(8);
      std::string bytes;
      for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>(rng.next()));
      insert_at(s, rng.below(s.size() + 1), bytes);
      break;
    }
    case 3:  // erase a range
      if (!s.empty()) {
        size_t pos = rng.below(s.size());
        s.erase(pos, 1 + rng.below(std::min<size_t>(s.size() - pos, 32)));
      }
      break;
    case 4:
      insert_at(s, rng.below(s.size() + 1), kTokens[rng.below(std::size(kTokens))]);
      break;
    case 5:
    case 6:  // numbers are most of what kreek checks: twice as likely
      replace_number(s, rng);
      break;
    case 7:
      binary_int(s, rng);
      break;
    case 8:  // splice: a prefix of this one, a suffix of another
      s = s.substr(0, rng.below(s.size() + 1)) + other.substr(rng.below(other.size() + 1));
      break;
    case 9: {  // insert a chunk of another
      size_t b = rng.below(other.size() + 1);
      insert_at(s, rng.below(s.size() + 1), other.substr(b, 1 + rng.below(64)));
      break;
    }
    case 10: {  // duplicate a line (a request or batch sent twice)
      auto [b, e] = line_around(s, rng.below(s.size() + 1));
      std::string line = s.substr(b, e - b) + "\n";
      insert_at(s, rng.one_in(2) ? b : (e < s.size() ? e + 1 : e), line);
      break;
    }
    case 11: {  // drop a line
      auto [b, e] = line_around(s, rng.below(s.size() + 1));
      s.erase(b, e - b + (e < s.size() ? 1 : 0));
      break;
    }
    case 12: {  // truncate: anywhere, or just before/after a newline
      size_t pos = rng.below(s.size() + 1);
      if (rng.one_in(2)) {
        size_t nl = s.find('\n', pos);
        if (nl != std::string::npos) pos = nl + rng.below(2);
      }
      s.resize(std::min(pos, s.size()));
      break;
    }
    case 13: {  // swap two lines
      auto [b1, e1] = line_around(s, rng.below(s.size() + 1));
      auto [b2, e2] = line_around(s, rng.below(s.size() + 1));
      if (b1 > b2) std::swap(b1, b2), std::swap(e1, e2);
      if (e1 < b2) {
        std::string l1 = s.substr(b1, e1 - b1), l2 = s.substr(b2, e2 - b2);
        s.replace(b2, e2 - b2, l1);
        s.replace(b1, e1 - b1, l2);
      }
      break;
    }
    case 14: {  // repeat a short range many times (long strings, deep nesting)
      if (s.empty()) break;
      size_t b = rng.below(s.size());
      std::string chunk = s.substr(b, 1 + rng.below(8));
      std::string rep;
      for (size_t n = 2 + rng.below(500); n > 0; --n) rep += chunk;
      insert_at(s, b, rep);
      break;
    }
    case 15:
      insert_at(s, rng.below(s.size() + 1), borrow_quoted(pool, rng));
      break;
    case 16:  // the first byte: several targets pick their parser with it
      if (!s.empty()) s[0] = static_cast<char>(rng.next());
      break;
  }
}

}  // namespace

std::string mutate(const std::string& in, const std::vector<std::string>& pool, size_t max_len, Rng& rng) {
  std::string s = in;
  for (size_t n = 1 + rng.below(6); n > 0; --n) {
    mutate_once(s, pool, rng);
    if (s.size() > max_len) s.resize(max_len);
  }
  return s;
}

}  // namespace kreek::fuzz
