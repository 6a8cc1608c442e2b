// A fuzz target with planted bugs, for short_run_selftest.sh: it fails (as
// SHORT_RUN_BUG says: abort, throw, segv or hang) on an input starting
// {"id":-1, which one mutation of the corpus input {"id":1} reaches.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* bug = std::getenv("SHORT_RUN_BUG");
  constexpr char kTrigger[] = "{\"id\":-1";
  if (bug == nullptr || size < sizeof kTrigger - 1 || std::memcmp(data, kTrigger, sizeof kTrigger - 1) != 0)
    return 0;
  if (std::strcmp(bug, "abort") == 0) std::abort();
  if (std::strcmp(bug, "throw") == 0) throw std::runtime_error("planted");
  if (std::strcmp(bug, "segv") == 0) *static_cast<volatile int*>(nullptr) = 1;
  if (std::strcmp(bug, "hang") == 0)
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  return 0;
}
