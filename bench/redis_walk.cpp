// redis_walk: reads a whole Redis stream the way a consumer would, for the read figure beside kconsume.
//   redis_walk PORT KEY [--count 100]
// XRANGE KEY - + COUNT 100, then XRANGE KEY (<last id> + COUNT 100 until a reply is empty: every
// entry is read once (no re-reading the same first page). One request in flight at a time, since
// each start id comes from the previous reply. Prints one key=value line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int fd_ = -1;
std::string in_;
size_t pos_ = 0;

bool fill() {
  if (pos_ > (1u << 20)) {
    in_.erase(0, pos_);
    pos_ = 0;
  }
  char buf[1 << 16];
  ssize_t r = read(fd_, buf, sizeof buf);
  if (r <= 0) return false;
  in_.append(buf, size_t(r));
  return true;
}

// Reads one CRLF-terminated line at pos_ (without the CRLF).
bool line(std::string& out) {
  size_t e;
  while ((e = in_.find("\r\n", pos_)) == std::string::npos)
    if (!fill()) return false;
  out.assign(in_, pos_, e - pos_);
  pos_ = e + 2;
  return true;
}

bool bulk_body(long n, std::string* out) {
  while (in_.size() < pos_ + size_t(n) + 2)
    if (!fill()) return false;
  if (out) out->assign(in_, pos_, size_t(n));
  pos_ += size_t(n) + 2;
  return true;
}

// Skips one RESP value; if `first_bulk` is non-null, stores the first bulk string it meets.
bool skip(std::string* first_bulk, long* array_len = nullptr) {
  std::string l;
  if (!line(l) || l.empty()) return false;
  long n = atol(l.c_str() + 1);
  switch (l[0]) {
    case '+': case ':': return true;
    case '-': fprintf(stderr, "redis_walk: error reply %s\n", l.c_str()); return false;
    case '$': return n < 0 || bulk_body(n, first_bulk);
    case '*':
      if (array_len) *array_len = n;
      for (long i = 0; i < n; i++)
        if (!skip(i == 0 ? first_bulk : nullptr)) return false;
      return true;
  }
  return false;
}

std::string command(const std::vector<std::string>& args) {
  std::string c = "*" + std::to_string(args.size()) + "\r\n";
  for (auto& a : args) c += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return c;
}

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: redis_walk PORT KEY [--count 100]\n");
    return 64;
  }
  std::string count = "100";
  if (argc >= 5 && strcmp(argv[3], "--count") == 0) count = argv[4];
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(atoi(argv[1])));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    perror("redis_walk: connect");
    return 69;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  long total = 0, calls = 0;
  std::string start = "-";
  const double t0 = now_s();
  for (;;) {
    std::string c = command({"XRANGE", argv[2], start, "+", "COUNT", count});
    if (write(fd_, c.data(), c.size()) != ssize_t(c.size())) return 74;
    calls++;
    // Reply: array of entries, each [id, [field, value, ...]].
    std::string l;
    if (!line(l) || l[0] != '*') {
      fprintf(stderr, "redis_walk: unexpected reply %s\n", l.c_str());
      return 70;
    }
    long n = atol(l.c_str() + 1);
    std::string id;
    for (long i = 0; i < n; i++) {
      if (!skip(&id)) return 70;
    }
    if (n <= 0) break;
    total += n;
    start = "(" + id;
  }
  const double el = now_s() - t0;
  printf("records=%ld calls=%ld seconds=%.3f records_per_s=%.1f\n", total, calls, el, double(total) / el);
  return 0;
}
