// The short fuzz run of make test: a main() for a libFuzzer target built with
// the normal compiler (no clang, no sanitizers, no coverage feedback). It runs
// every corpus input, then seeded mutations of them (short_run_mutate.cpp) for
// FUZZ_SHORT_SECONDS (default 8); a crash, abort, uncaught exception or hang
// writes the input that did it to a file named on stderr. make fuzz is the real,
// coverage-guided run.
//   fuzz_batch_short [-max_len=N] [-timeout=S] DIR_OR_FILE...
// Given only files (a crash input), it runs each once and stops.
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "short_run_mutate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using Clock = std::chrono::steady_clock;

// What the crash handlers need, set before each input runs: plain globals,
// since a signal handler may only read them and make raw syscalls.
const char* volatile g_data = nullptr;
volatile size_t g_size = 0;
char g_crash_path[4096];
char g_crash_note[512];
std::atomic<int64_t> g_started_ms{-1};  // when the running input began; -1 between inputs

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w <= 0) return;
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void write_str(int fd, const char* s) { write_all(fd, s, strlen(s)); }

// Async-signal-safe: open/write/close only.
void save_input(const char* why) {
  int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    write_all(fd, g_data, g_size);
    ::close(fd);
  }
  write_str(2, "\nfuzz short run: ");
  write_str(2, why);
  write_str(2, g_crash_note);
  write_str(2, "; input written to ");
  write_str(2, g_crash_path);
  write_str(2, "\n");
}

void on_fatal_signal(int sig) {
  const char* why = sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGFPE ? "SIGFPE"
                  : sig == SIGILL  ? "SIGILL"  : "SIGABRT (abort or failed check)";
  save_input(why);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void on_terminate() {
  std::string what = "uncaught exception";
  if (auto e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what += std::string(": ") + ex.what();
    } catch (...) {
    }
  }
  ::signal(SIGABRT, SIG_DFL);
  save_input(what.c_str());
  ::abort();
}

void install_handlers() {
  // An alternate stack, so runaway recursion is reported, not just fatal.
  static std::vector<char> alt(1 << 16);
  stack_t ss{};
  ss.ss_sp = alt.data();
  ss.ss_size = alt.size();
  ::sigaltstack(&ss, nullptr);
  struct sigaction sa{};
  sa.sa_handler = on_fatal_signal;
  sa.sa_flags = SA_ONSTACK;
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::sigaction(sig, &sa, nullptr);
  std::set_terminate(on_terminate);
}

// A hung input never returns, so a thread watches the clock for it.
void start_watchdog(int timeout_s) {
  std::thread([timeout_s] {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      int64_t t = g_started_ms.load();
      if (t >= 0 && now_ms() - t > int64_t{timeout_s} * 1000) {
        std::string why = "timeout (an input ran over " + std::to_string(timeout_s) + " s)";
        save_input(why.c_str());
        ::_exit(1);
      }
    }
  }).detach();
}

void run_one(const std::string& input) {
  g_data = input.data();
  g_size = input.size();
  g_started_ms.store(now_ms());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  g_started_ms.store(-1);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

uint64_t env_u64(const char* name, uint64_t dflt) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : dflt;
}

}  // namespace

// Under make asan a sanitizer's report would end the process with exit(1),
// not a signal (a null store is UBSan's before it is a SIGSEGV): made to
// abort instead, so the SIGABRT handler saves the input.
extern "C" const char* __asan_default_options() { return "abort_on_error=1"; }
extern "C" const char* __ubsan_default_options() { return "abort_on_error=1:print_stacktrace=1"; }

int main(int argc, char** argv) {
  std::string name = std::filesystem::path(argv[0]).filename().string();
  size_t max_len = 4096;
  int timeout_s = 10;
  std::vector<std::string> pool;
  bool any_dir = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("-max_len=", 0) == 0) {
      max_len = std::strtoull(a.c_str() + 9, nullptr, 10);
    } else if (a.rfind("-timeout=", 0) == 0) {
      timeout_s = std::atoi(a.c_str() + 9);
    } else if (std::filesystem::is_directory(a)) {
      any_dir = true;
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::directory_iterator(a))
        if (e.is_regular_file()) files.push_back(e.path());
      std::sort(files.begin(), files.end());  // the same order everywhere: seeds reproduce
      for (const auto& f : files) pool.push_back(read_file(f));
    } else if (std::filesystem::is_regular_file(a)) {
      pool.push_back(read_file(a));
    } else {
      std::fprintf(stderr, "%s: open %s: no such file or directory\n", name.c_str(), a.c_str());
      return 66;  // EX_NOINPUT
    }
  }

  uint64_t seed = env_u64("FUZZ_SHORT_SEED", static_cast<uint64_t>(now_ms()) ^ (uint64_t(::getpid()) << 32));
  double seconds = static_cast<double>(env_u64("FUZZ_SHORT_SECONDS", 8));
  const char* out_dir = std::getenv("FUZZ_SHORT_OUT");
  std::string crash = std::string(out_dir && *out_dir ? out_dir : ".") + "/" + name + "-crash-" + std::to_string(seed);
  crash = std::filesystem::absolute(crash).lexically_normal().string();
  std::snprintf(g_crash_path, sizeof g_crash_path, "%s", crash.c_str());
  install_handlers();
  start_watchdog(timeout_s);

  // The corpus (and the empty input) first: what passed yesterday must pass.
  uint64_t n = 0;
  auto note = [&](const char* phase) {
    std::snprintf(g_crash_note, sizeof g_crash_note, " in %s, %s input %llu, seed %llu", name.c_str(), phase,
                  static_cast<unsigned long long>(n), static_cast<unsigned long long>(seed));
  };
  note("corpus");
  run_one("");
  for (const auto& in : pool) {
    ++n;
    note("corpus");
    run_one(in);
  }
  if (!any_dir) {
    std::printf("%s: ran %llu inputs\n", name.c_str(), static_cast<unsigned long long>(n));
    return 0;
  }
  if (pool.empty()) pool.push_back("");

  kreek::fuzz::Rng rng(seed);
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  uint64_t mutated = 0;
  std::string last;
  while (Clock::now() < deadline) {
    // Mostly from the corpus; sometimes a walk on from the last mutant, which
    // reaches inputs several mutations away.
    const std::string& base = (!last.empty() && rng.one_in(4)) ? last : pool[rng.below(pool.size())];
    last = kreek::fuzz::mutate(base, pool, max_len, rng);
    ++n;
    ++mutated;
    note("mutated");
    run_one(last);
  }
  double took = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%s: %llu inputs (%zu from the corpus, %llu mutated in %.1f s, %.0f/s), seed %llu "
              "(FUZZ_SHORT_SEED=%llu repeats them)\n",
              name.c_str(), static_cast<unsigned long long>(n), pool.size(),
              static_cast<unsigned long long>(mutated), took, took > 0 ? mutated / took : 0.0,
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  return 0;
}
