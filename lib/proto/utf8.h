// UTF-8 and string-body primitives shared by the JSON scanner and the encoders
// inside lib/proto (internal: other modules use json_scan.h). Kept inline
// because they sit in the innermost loops of produce validation and fetch decoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__) && !defined(KREEK_JSON_NO_SIMD)
#include <emmintrin.h>
#define KREEK_JSON_SSE2 1
#endif

namespace kreek::proto {

// Length of the valid UTF-8 multi-byte sequence at p (p[0] >= 0x80), or 0 if it
// is invalid or truncated by e. Rejects overlongs (C0, C1, E0 80..9F, F0 80..8F),
// surrogates (ED A0..BF) and code points above U+10FFFF (F4 90.., F5..FF), per
// RFC 3629 section 4.
inline size_t utf8_sequence_length(const unsigned char* p, const unsigned char* e) {
  const unsigned c = p[0];
  const size_t avail = static_cast<size_t>(e - p);
  auto cont = [](unsigned x) { return (x & 0xC0) == 0x80; };
  if (c < 0xC2) return 0;  // ASCII is not a sequence; 80..BF stray continuation; C0/C1 overlong
  if (c < 0xE0) return avail >= 2 && cont(p[1]) ? 2 : 0;
  if (c < 0xF0) {
    if (avail < 3) return 0;
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return p[1] >= lo && p[1] <= hi && cont(p[2]) ? 3 : 0;
  }
  if (c < 0xF5) {
    if (avail < 4) return 0;
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return p[1] >= lo && p[1] <= hi && cont(p[2]) && cont(p[3]) ? 4 : 0;
  }
  return 0;
}

// First byte in [p, e) that a JSON string body cannot copy blindly: '"', '\\',
// a control character (< 0x20) or a non-ASCII byte (>= 0x80); e if none.
inline const unsigned char* skip_plain(const unsigned char* p, const unsigned char* e) {
#ifdef KREEK_JSON_SSE2
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (e - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed compare: bytes 0x00..0x1F and 0x80..0xFF are both "less than 0x20".
    const __m128i special = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
        _mm_cmplt_epi8(v, space));
    const int mask = _mm_movemask_epi8(special);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#else
  // SWAR: flag a word holding any special byte, then find it bytewise below.
  constexpr uint64_t k01 = 0x0101010101010101ull, k80 = 0x8080808080808080ull;
  auto has_zero = [](uint64_t v) { return (v - k01) & ~v & k80; };
  while (e - p >= 8) {
    uint64_t x;
    std::memcpy(&x, p, 8);
    const uint64_t special = has_zero(x ^ (k01 * '"')) | has_zero(x ^ (k01 * '\\')) |
                             ((x - k01 * 0x20) & ~x & k80) | (x & k80);
    if (special != 0) break;
    p += 8;
  }
#endif
  while (p < e) {
    const unsigned char c = *p;
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return p;
    ++p;
  }
  return e;
}

// Appends code point cp (<= 0x10FFFF, not a surrogate) as UTF-8.
template <typename String>
inline void append_utf8(String& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace kreek::proto
