// Seeded, deterministic mutations for the short fuzz run (short_run_main.cpp):
// the same seed and pool give the same inputs in the same order. Blind (no
// coverage feedback), so it leans on what kreek's inputs look like: JSON lines,
// decimal numbers at their limits, and lines duplicated, dropped or cut.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kreek::fuzz {

// splitmix64: small, fast and the same on every platform (std:: distributions
// are not), so a reported seed reproduces anywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform-enough in [0, n); n == 0 gives 0.
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
  bool one_in(size_t n) { return below(n) == 0; }

 private:
  uint64_t s_;
};

// Applies 1 to 6 stacked mutations to `in` (splices draw on `pool`) and keeps
// the result within max_len bytes.
std::string mutate(const std::string& in, const std::vector<std::string>& pool, size_t max_len, Rng& rng);

}  // namespace kreek::fuzz
