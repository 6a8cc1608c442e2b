// For the storage unit tests that run a process short of file descriptors:
// DescriptorShortage lowers the soft RLIMIT_NOFILE for its lifetime, and
// kUnderSanitizers says when such tests cannot run.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace kreek::storage::testing {

// While alive, only `spare` more descriptors can be opened: the soft limit is
// lowered to the lowest free descriptor number plus `spare` (single-threaded
// tests only; descriptors are numbered from the lowest free one).
class DescriptorShortage {
 public:
  explicit DescriptorShortage(int spare = 0) {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    int lowest = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(lowest >= 0);
    ::close(lowest);
    struct rlimit tight = saved_;
    tight.rlim_cur = static_cast<rlim_t>(lowest + spare);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  }
  ~DescriptorShortage() { restore(); }
  DescriptorShortage(const DescriptorShortage&) = delete;
  DescriptorShortage& operator=(const DescriptorShortage&) = delete;
  void restore() {
    if (restored_) return;
    restored_ = true;
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  struct rlimit saved_ {};
  bool restored_ = false;
};

// UBSan checks a dynamic type by reading memory through a pipe(2), which
// needs two free descriptors: with none it reports a false "invalid vptr".
// So under the sanitizers (make asan) the cases that take every descriptor
// away do not run; the normal build runs them.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kUnderSanitizers = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kUnderSanitizers = true;
#else
constexpr bool kUnderSanitizers = false;
#endif
#else
constexpr bool kUnderSanitizers = false;
#endif

}  // namespace kreek::storage::testing
