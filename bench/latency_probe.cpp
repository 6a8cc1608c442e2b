// latency_probe: the two ends of the produce-to-consume latency benchmark.
//   latency_probe send --rate 10000 --seconds 7 [--size 100]   > pipe into kproduce
//   latency_probe recv --warmup 10000 --count 50000 [--idle-s 10] < kconsume -f --format '%v\n'
// Each record is one line of --size bytes: "<19-digit ns> <seq> xxxx...". The stamp is the
// record's *scheduled* send time on CLOCK_MONOTONIC (shared by every process on the machine),
// not the time the write happened, so a stalled pipeline cannot hide its own delay
// (no coordinated omission). send writes every record due at once in one write(2), so it
// keeps its schedule past 500k rec/s. recv stamps each read(2) chunk once, when it returns.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <string>
#include <vector>

#include "fd_io.h"

namespace {

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void sleep_until_ns(int64_t t) {
  timespec ts{time_t(t / 1000000000), long(t % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

const char* arg(int argc, char** argv, const char* name, const char* def) {
  for (int i = 2; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return def;
}

// "<19-digit zero-padded due> <seq> " into `out` (room for 64 bytes); returns
// its length. By hand: snprintf would be most of the pacer's CPU at 500k rec/s.
size_t format_head(char* out, int64_t due, int64_t seq) {
  uint64_t d = uint64_t(due);
  for (int k = 18; k >= 0; k--) {
    out[k] = char('0' + d % 10);
    d /= 10;
  }
  out[19] = ' ';
  char digits[24];
  int m = 0;
  uint64_t q = uint64_t(seq);
  do {
    digits[m++] = char('0' + q % 10);
    q /= 10;
  } while (q != 0);
  size_t n = 20;
  while (m > 0) out[n++] = digits[--m];
  out[n++] = ' ';
  return n;
}

// The pacer: wakes at the next record's scheduled time, then writes every
// record due by now in one write(2) (a timer wake-up costs tens of
// microseconds, so at 500k rec/s each wake-up finds several due). Each line
// still carries its own scheduled time, so batching hides no delay.
int run_send(int argc, char** argv) {
  const double rate = atof(arg(argc, argv, "--rate", "10000"));
  const double seconds = atof(arg(argc, argv, "--seconds", "7"));
  const size_t size = size_t(atoi(arg(argc, argv, "--size", "100")));
  const int64_t total = int64_t(rate * seconds);
  const int64_t start = now_ns() + 1000000;
  const double step_ns = 1e9 / rate;
  // Flushed at this size even if more are due: a pipe takes 64 KiB at once.
  const size_t kFlushBytes = 64 * 1024;
  int64_t max_lag = 0, writes = 0;
  std::string buf;
  buf.reserve(kFlushBytes + 2 * size + 64);
  std::string filler(size, 'x');
  bool reader_gone = false;
  int64_t i = 0;
  while (i < total && !reader_gone) {
    sleep_until_ns(start + int64_t(double(i) * step_ns));
    const int64_t now = now_ns();
    // The oldest record due now is the pacer's lag.
    max_lag = std::max(max_lag, now - (start + int64_t(double(i) * step_ns)));
    for (; i < total; i++) {
      const int64_t due = start + int64_t(double(i) * step_ns);
      if (due > now) break;
      char head[64];
      size_t n = format_head(head, due, i);
      buf.append(head, n);
      if (n + 1 < size) buf.append(filler, 0, size - 1 - n);
      buf.push_back('\n');
      if (buf.size() >= kFlushBytes) {
        writes++;
        if (!write_all(1, buf.data(), buf.size())) reader_gone = true;
        buf.clear();
        if (reader_gone) break;
      }
    }
    if (!buf.empty() && !reader_gone) {
      writes++;
      if (!write_all(1, buf.data(), buf.size())) reader_gone = true;
      buf.clear();
    }
  }
  const double took = double(now_ns() - start) / 1e9;
  fprintf(stderr,
          "latency_probe send: %" PRId64 " records in %.3f s (scheduled %.3f s), %" PRId64
          " writes, max pacer lag %.3f ms\n",
          i, took, seconds, writes, double(max_lag) / 1e6);
  return 0;
}

int run_recv(int argc, char** argv) {
  const int64_t warmup = atoll(arg(argc, argv, "--warmup", "10000"));
  const int64_t count = atoll(arg(argc, argv, "--count", "50000"));
  const int idle_ms = int(atof(arg(argc, argv, "--idle-s", "10")) * 1000);
  std::vector<int64_t> lat;
  lat.reserve(size_t(count));
  int64_t seen = 0, next_seq = 0, lost = 0, bad = 0;
  std::string pending;
  std::vector<char> buf(1 << 20);
  while (int64_t(lat.size()) < count) {
    pollfd pfd{0, POLLIN, 0};
    int pr = poll(&pfd, 1, idle_ms);
    if (pr == 0) {
      fprintf(stderr, "latency_probe recv: no input for %d ms\n", idle_ms);
      break;
    }
    ssize_t r = read(0, buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    const int64_t t = now_ns();
    pending.append(buf.data(), size_t(r));
    size_t pos = 0, nl;
    while ((nl = pending.find('\n', pos)) != std::string::npos) {
      const char* p = pending.c_str() + pos;
      char* end;
      int64_t sent = strtoll(p, &end, 10);
      int64_t seq = (end != p && *end == ' ') ? strtoll(end + 1, nullptr, 10) : -1;
      pos = nl + 1;
      if (end == p || seq < 0) {
        bad++;
        continue;
      }
      if (seq > next_seq) lost += seq - next_seq;
      next_seq = std::max(next_seq, seq + 1);
      if (++seen > warmup && int64_t(lat.size()) < count) lat.push_back(t - sent);
    }
    pending.erase(0, pos);
  }
  if (lat.empty()) {
    printf("n=0 lost=%" PRId64 " bad=%" PRId64 "\n", lost, bad);
    return 1;
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double q) {
    size_t i = std::min(lat.size() - 1, size_t(q * double(lat.size())));
    return double(lat[i]) / 1e6;
  };
  // One machine-readable line: the bench script parses key=value pairs.
  printf("n=%zu p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f lost=%" PRId64
         " bad=%" PRId64 "\n",
         lat.size(), pct(0.50), pct(0.90), pct(0.99), pct(0.999), double(lat.back()) / 1e6, lost, bad);
  return int64_t(lat.size()) == count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "send") == 0) return run_send(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "recv") == 0) return run_recv(argc, argv);
  fprintf(stderr, "usage: latency_probe send|recv [--rate R --seconds S --size B | --warmup N --count N]\n");
  return 64;
}
