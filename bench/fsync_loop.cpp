// fsync_loop: the disk's ceiling for durable appends, to set kreek's flush.messages=1 rate against.
//   fsync_loop FILE [--write-bytes B] [--record-bytes 100] [--seconds 5]
// Appends B bytes per write(2) (B/record-bytes records per write) and calls fdatasync(2)
// after every write, for the given time; prints one key=value line with writes/s and records/s.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

const char* arg(int argc, char** argv, const char* name, const char* def) {
  for (int i = 2; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return def;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: fsync_loop FILE [--write-bytes B] [--record-bytes 100] [--seconds 5]\n");
    return 64;
  }
  const size_t record = size_t(atol(arg(argc, argv, "--record-bytes", "100")));
  const size_t bytes = std::max<size_t>(1, size_t(atol(arg(argc, argv, "--write-bytes", "100"))));
  const double seconds = atof(arg(argc, argv, "--seconds", "5"));
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    perror("fsync_loop: open");
    return 73;
  }
  std::string buf(bytes, 'x');
  for (size_t i = record; i <= bytes; i += record) buf[i - 1] = '\n';
  long writes = 0;
  const double start = now_s();
  double t = start;
  while (t - start < seconds) {
    if (write(fd, buf.data(), buf.size()) != ssize_t(buf.size()) || fdatasync(fd) != 0) {
      perror("fsync_loop: write/fdatasync");
      return 74;
    }
    writes++;
    t = now_s();
  }
  close(fd);
  const double el = t - start;
  const double recs_per_write = double(bytes) / double(record);
  printf("writes=%ld seconds=%.3f writes_per_s=%.1f records_per_s=%.1f mb_per_s=%.3f\n", writes, el,
         double(writes) / el, double(writes) * recs_per_write / el, double(writes) * double(bytes) / el / 1e6);
  return 0;
}
