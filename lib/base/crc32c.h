// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum on every
// stored batch. Uses the SSE4.2 crc32 instruction when the CPU has it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kreek::crc32c {

// Extends `crc` (the value returned for the bytes before) over data[0, n).
uint32_t extend(uint32_t crc, const void* data, size_t n);

inline uint32_t value(const void* data, size_t n) { return extend(0, data, n); }
inline uint32_t value(std::string_view s) { return extend(0, s.data(), s.size()); }

}  // namespace kreek::crc32c
