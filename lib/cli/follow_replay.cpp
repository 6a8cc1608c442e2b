// Rebuilding the batches a killed kproduce --follow had in flight: journal
// entries beyond the state's positions, their lines read again from the files
// (found by device and inode, under the saved name or renamed beside it) and
// checked against the journal's checksums, and the lines between them.
#include "cli/follow_replay.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "base/atomic_file.h"

namespace kreek::cli {
namespace {

// A journal holds the batches in flight (a few MiB at most) and what was
// sent since the last state save.
constexpr size_t kMaxJournalBytes = 256 << 20;

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool is_file(int fd, uint64_t dev, uint64_t ino) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_dev) == dev &&
         static_cast<uint64_t>(st.st_ino) == ino;
}

// The file (dev, ino): under `path`, else renamed within its directory (a
// rotation while kproduce was down). -1 if it is gone.
int open_by_identity(const std::string& path, uint64_t dev, uint64_t ino) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && is_file(fd, dev, ino)) return fd;
  if (fd >= 0) ::close(fd);
  std::string dir = dir_of(path);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return -1;
  fd = -1;
  while (dirent* e = ::readdir(d)) {
    if (e->d_ino != ino) continue;
    std::string p = dir == "/" ? "/" + std::string(e->d_name) : dir + "/" + e->d_name;
    int f = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (f >= 0 && is_file(f, dev, ino)) {
      fd = f;
      break;
    }
    if (f >= 0) ::close(f);
  }
  ::closedir(d);
  return fd;
}

bool pread_all(int fd, int64_t from, int64_t to, std::string& out) {
  // Sized by the file before the buffer: a damaged journal naming byte 10^15
  // is a file too short, not an allocation that throws.
  struct stat st;
  if (from < 0 || to < from || ::fstat(fd, &st) != 0 || to > st.st_size) return false;
  out.resize(static_cast<size_t>(to - from));
  for (int64_t done = 0; done < to - from;) {
    ssize_t n = ::pread(fd, out.data() + done, static_cast<size_t>(to - from - done), from + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // the file shrank (copytruncate) or cannot be read
    done += n;
  }
  return true;
}

// One journaled line, found again.
struct Rec {
  int64_t from = 0, to = 0, line = 0;
  size_t batch = 0;
  int32_t index = 0;  // its place in the batch
  std::string text;
};

}  // namespace

std::optional<ResumePlan> plan_resume(const std::string& state_path, const FollowState& saved, std::string* why) {
  const std::string jpath = state_path + ".inflight";
  auto text = read_small_file(jpath, kMaxJournalBytes);
  if (!text.is_ok()) {
    if (text.status().code() != Code::kNotFound) {
      *why = text.status().message();
    } else if (saved.pid >= 0) {
      *why = "no journal " + jpath;
    }
    return std::nullopt;
  }
  auto j = decode_journal(*text, jpath);
  if (!j.is_ok()) {
    *why = j.status().message();
    return std::nullopt;
  }
  if (saved.pid < 0 || saved.pid != j->pid || saved.pepoch != j->pepoch) {
    *why = "journal " + jpath + " is for producer id " + std::to_string(j->pid) + ", the state names " +
           (saved.pid < 0 ? std::string("none") : std::to_string(saved.pid));
    return std::nullopt;
  }
  auto fail = [&](const std::string& m) {
    *why = "journal " + jpath + ": " + m;
    return std::nullopt;
  };

  // Runs per state file (by index), with the batch and the place they start at.
  struct RunAt {
    JournalRun run;
    size_t batch;
    int32_t index;
  };
  std::vector<std::vector<RunAt>> runs(saved.files.size());
  for (size_t b = 0; b < j->batches.size(); ++b) {
    const JournalBatch& jb = j->batches[b];
    if (jb.released) continue;
    int32_t index = 0;
    for (const JournalRun& r : jb.runs) {
      size_t fi = 0;
      while (fi < saved.files.size() && !(saved.files[fi].dev == r.dev && saved.files[fi].ino == r.ino)) ++fi;
      if (fi == saved.files.size()) {
        // Limitation: a file first read after the last state save is not
        // in the state; its lines cannot be placed, unless acknowledged.
        if (!jb.acked) return fail("a batch names a file the state does not know");
      } else if (r.to > saved.files[fi].pos) {
        runs[fi].push_back({r, b, index});
      }
      index += static_cast<int32_t>(r.count);
    }
  }

  ResumePlan plan;
  std::vector<std::vector<Rec>> recs(saved.files.size());
  std::vector<int32_t> kept(j->batches.size(), 0);
  for (size_t fi = 0; fi < saved.files.size(); ++fi) {
    if (runs[fi].empty()) continue;
    const FileProgress& f = saved.files[fi];
    int64_t lo = f.pos, hi = f.pos;
    for (const auto& ra : runs[fi]) lo = std::min(lo, ra.run.from), hi = std::max(hi, ra.run.to);
    int fd = open_by_identity(f.path, f.dev, f.ino);
    if (fd < 0) return fail(f.path + " (inode " + std::to_string(f.ino) + ") is gone");
    std::string bytes;
    bool read = pread_all(fd, lo, hi, bytes);
    ::close(fd);
    if (!read) return fail(f.path + " is shorter than its journaled lines (truncated?)");
    for (const auto& ra : runs[fi]) {
      int64_t at = ra.run.from;
      for (int64_t i = 0; i < ra.run.count; ++i) {
        const char* start = bytes.data() + (at - lo);
        const void* nl = std::memchr(start, '\n', static_cast<size_t>(ra.run.to - at));
        int64_t len = nl != nullptr ? static_cast<const char*>(nl) - start : ra.run.to - at;
        int64_t end = nl != nullptr ? at + len + 1 : ra.run.to;
        if (nl == nullptr && i + 1 < ra.run.count) return fail(f.path + " changed under its journaled lines");
        if (end > f.pos) {
          if (at < f.pos) return fail(f.path + ": a journaled line straddles the saved position");
          recs[fi].push_back({at, end, ra.run.line + i, ra.batch, ra.index + static_cast<int32_t>(i),
                              std::string(start, static_cast<size_t>(len))});
          ++kept[ra.batch];
        }
        at = end;
      }
      if (at != ra.run.to) return fail(f.path + " changed under its journaled lines");
    }
  }

  // The batches to place: those with lines not settled yet.
  std::vector<int> renum(j->batches.size(), -1);
  for (size_t b = 0; b < j->batches.size(); ++b) {
    const JournalBatch& jb = j->batches[b];
    if (jb.released || kept[b] == 0) continue;  // settled (or refused and passed) before the restart
    if (!jb.acked && kept[b] != jb.count) return fail("a batch not acknowledged is partly settled");
    renum[b] = static_cast<int>(plan.batches.size());
    plan.batches.push_back(jb);
    plan.batch_lines.emplace_back(static_cast<size_t>(jb.count), SIZE_MAX);
    if (!jb.acked) plan.resend_records += jb.count;
  }

  // File by file in position order: journaled lines, and the lines between
  // them that were read but never in a sent batch (a key's partition whose
  // batch was still open).
  for (size_t fi = 0; fi < saved.files.size(); ++fi) {
    if (recs[fi].empty()) continue;
    const FileProgress& f = saved.files[fi];
    std::sort(recs[fi].begin(), recs[fi].end(), [](const Rec& a, const Rec& b) { return a.from < b.from; });
    size_t pf = plan.files.size();
    int64_t end = recs[fi].back().to;
    std::string gap_bytes;
    int64_t pos = f.pos, line = f.line;
    auto add_gap = [&](int64_t upto) -> bool {
      if (pos == upto) return true;
      int fd = open_by_identity(f.path, f.dev, f.ino);
      bool ok = fd >= 0 && pread_all(fd, pos, upto, gap_bytes);
      if (fd >= 0) ::close(fd);
      if (!ok) return false;
      for (size_t at = 0; at < gap_bytes.size();) {
        size_t nl = gap_bytes.find('\n', at);
        size_t stop = nl == std::string::npos ? gap_bytes.size() : nl;
        size_t next = nl == std::string::npos ? gap_bytes.size() : nl + 1;
        plan.lines.push_back({pf, ++line, pos + static_cast<int64_t>(next), gap_bytes.substr(at, stop - at), -1, -1});
        at = next;
      }
      pos = upto;
      return true;
    };
    for (Rec& r : recs[fi]) {
      if (r.from < pos) return fail(f.path + ": journaled lines overlap");
      if (!add_gap(r.from)) return fail(f.path + " is shorter than its journaled lines (truncated?)");
      int b = renum[r.batch];
      if (b < 0) return fail("internal: a line of a dropped batch");
      const JournalBatch& jb = plan.batches[static_cast<size_t>(b)];
      plan.batch_lines[static_cast<size_t>(b)][static_cast<size_t>(r.index)] = plan.lines.size();
      plan.lines.push_back({pf, r.line, r.to, std::move(r.text), b, jb.acked ? jb.base + r.index : -1});
      pos = r.to;
      line = r.line;
    }
    plan.files.push_back({f.dev, f.ino, f.path, f.pos, f.line, end, line});
  }

  // Byte for byte: the lines read now are the lines sent then.
  for (size_t b = 0; b < plan.batches.size(); ++b) {
    const JournalBatch& jb = plan.batches[b];
    if (jb.acked) continue;
    uint32_t check = 0;
    for (size_t li : plan.batch_lines[b]) {
      if (li == SIZE_MAX) return fail("internal: a batch line is missing");
      check = chain_check(check, line_check(plan.lines[li].text));
    }
    if (check != jb.check) return fail("the lines of a journaled batch changed in their file");
  }
  plan.producer.producer_id = j->pid;
  plan.producer.producer_epoch = j->pepoch;
  plan.producer.next_sequence = j->next;
  return plan;
}

Journal resumed_journal(const ResumePlan& plan, const std::vector<uint64_t>& first_tags) {
  Journal j;
  j.pid = plan.producer.producer_id;
  j.pepoch = plan.producer.producer_epoch;
  j.next = plan.producer.next_sequence;
  for (size_t b = 0; b < plan.batches.size(); ++b) {
    JournalBatch jb = plan.batches[b];
    jb.tag = first_tags[b];
    j.batches.push_back(std::move(jb));
  }
  return j;
}

}  // namespace kreek::cli
