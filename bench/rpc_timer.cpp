// rpc_timer: times one kreek request sent over and over, for the cluster metadata figure.
//   rpc_timer HOST:PORT '{"op":"metadata"}' [--count 200] [--warmup 20] [--reconnect]
// One request in flight at a time; each is timed from just before write(2) to the read(2) that
// completes its response line, so the figure is what a client waits, JSON parsing on the broker
// and the loopback copy included. --reconnect opens a new TCP connection for every request (and
// times the connect too), as a short-lived CLI does. A response that is not "ok":true stops the
// run. Prints one key=value line (the bench script parses it) and exits non-zero if cut short.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fd_io.h"

namespace {

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

const char* arg(int argc, char** argv, const char* name, const char* def) {
  for (int i = 3; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return def;
}

bool has_flag(int argc, char** argv, const char* name) {
  for (int i = 3; i < argc; i++)
    if (strcmp(argv[i], name) == 0) return true;
  return false;
}

int connect_to(const std::string& hostport) {
  size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) return -1;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(uint16_t(atoi(hostport.c_str() + colon + 1)));
  if (inet_pton(AF_INET, hostport.substr(0, colon).c_str(), &sa.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads until one whole line (newline included) is in `line`; false on EOF or error.
// The protocol answers one line per request, so nothing follows it on this connection.
bool read_line(int fd, std::string& line, std::vector<char>& buf) {
  line.clear();
  for (;;) {
    ssize_t r = read(fd, buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    line.append(buf.data(), size_t(r));
    if (buf[size_t(r) - 1] == '\n') return true;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: rpc_timer HOST:PORT REQUEST-JSON [--count N] [--warmup N] [--reconnect]\n");
    return 64;
  }
  const std::string addr = argv[1];
  std::string request = argv[2];
  request.push_back('\n');
  const long count = atol(arg(argc, argv, "--count", "200"));
  const long warmup = atol(arg(argc, argv, "--warmup", "20"));
  const bool reconnect = has_flag(argc, argv, "--reconnect");
  std::vector<int64_t> lat;
  lat.reserve(size_t(count));
  std::vector<char> buf(1 << 20);
  std::string line;
  size_t bytes = 0;
  int fd = -1;
  const int64_t t_start = now_ns();
  for (long i = 0; i < warmup + count; i++) {
    const int64_t t0 = now_ns();
    if (fd < 0 && (fd = connect_to(addr)) < 0) {
      fprintf(stderr, "rpc_timer: connect %s: %s\n", addr.c_str(), strerror(errno));
      break;
    }
    if (!write_all(fd, request.data(), request.size()) || !read_line(fd, line, buf)) {
      fprintf(stderr, "rpc_timer: request %ld to %s: connection closed\n", i, addr.c_str());
      break;
    }
    const int64_t t1 = now_ns();
    if (line.find("\"ok\":true") == std::string::npos) {
      fprintf(stderr, "rpc_timer: request %ld refused: %.300s\n", i, line.c_str());
      break;
    }
    bytes = line.size();
    if (i >= warmup) lat.push_back(t1 - t0);
    if (reconnect) {
      close(fd);
      fd = -1;
    }
  }
  const double wall_s = double(now_ns() - t_start) / 1e9;
  if (fd >= 0) close(fd);
  if (lat.empty()) {
    printf("n=0\n");
    return 1;
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double q) {
    size_t i = std::min(lat.size() - 1, size_t(q * double(lat.size())));
    return double(lat[i]) / 1e6;
  };
  printf("n=%zu bytes=%zu p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f min_ms=%.3f max_ms=%.3f wall_s=%.3f\n",
         lat.size(), bytes, pct(0.50), pct(0.90), pct(0.99), double(lat.front()) / 1e6,
         double(lat.back()) / 1e6, wall_s);
  return long(lat.size()) == count ? 0 : 1;
}
