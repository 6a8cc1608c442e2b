// The --state journal (FILE.inflight) of kproduce --follow: its line codecs,
// the strict reader that replays releases like the producer did, and the
// append/rewrite writer.
#include "cli/follow_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <nlohmann/json.hpp>

#include "base/crc32c.h"
#include "base/json_value.h"

namespace kreek::cli {
namespace {

using json = nlohmann::json;

constexpr int64_t kWrap = static_cast<int64_t>(INT32_MAX) + 1;  // sequence numbers wrap to 0 (Kafka)

int32_t seq_add(int32_t seq, int64_t n) { return static_cast<int32_t>(((seq + n) % kWrap + kWrap) % kWrap); }

void set_next(std::vector<std::pair<int32_t, int32_t>>& next, int32_t p, int32_t seq) {
  for (auto& [q, s] : next)
    if (q == p) {
      s = seq;
      return;
    }
  next.emplace_back(p, seq);
}

bool is_int(const json& v) { return json_int_in(v).has_value(); }
// Offsets, counts, ids: 0..INT64_MAX. 2^63 would wrap negative as an int64.
bool is_uint(const json& v) { return json_int_in(v, 0).has_value(); }
// Batch tags and a file's device and inode numbers: all of uint64.
bool is_u64(const json& v) { return v.is_number_unsigned() || is_uint(v); }

}  // namespace

uint32_t line_check(std::string_view line) { return crc32c::value(line); }

uint32_t chain_check(uint32_t check, uint32_t line) { return crc32c::extend(check, &line, sizeof line); }

std::string encode_journal_head(int64_t pid, int16_t pepoch) {
  return "{\"pid\":" + std::to_string(pid) + ",\"pepoch\":" + std::to_string(pepoch) + "}\n";
}

std::string encode_journal_batch(const JournalBatch& b) {
  std::string s = "{\"b\":[" + std::to_string(b.tag) + "," + std::to_string(b.partition) + "," +
                  std::to_string(b.first_seq) + "," + std::to_string(b.count) + "," + std::to_string(b.check) +
                  "],\"r\":[";
  for (size_t i = 0; i < b.runs.size(); ++i) {
    const JournalRun& r = b.runs[i];
    if (i > 0) s += ',';
    s += "[" + std::to_string(r.dev) + "," + std::to_string(r.ino) + "," + std::to_string(r.line) + "," +
         std::to_string(r.from) + "," + std::to_string(r.to) + "," + std::to_string(r.count) + "]";
  }
  s += "]}\n";
  return s;
}

std::string encode_journal_ack(uint64_t tag, int64_t base, int64_t ts) {
  return "{\"a\":[" + std::to_string(tag) + "," + std::to_string(base) + "," + std::to_string(ts) + "]}\n";
}

std::string encode_journal_release(uint64_t tag) { return "{\"x\":[" + std::to_string(tag) + "]}\n"; }

std::string encode_journal_next(const std::vector<std::pair<int32_t, int32_t>>& next) {
  std::string s = "{\"n\":[";
  for (size_t i = 0; i < next.size(); ++i) {
    if (i > 0) s += ',';
    s += "[" + std::to_string(next[i].first) + "," + std::to_string(next[i].second) + "]";
  }
  s += "]}\n";
  return s;
}

std::string encode_journal(const Journal& j) {
  std::string s = encode_journal_head(j.pid, j.pepoch);
  for (const auto& b : j.batches) {
    if (b.released) continue;  // its numbers are someone else's now
    s += encode_journal_batch(b);
    if (b.acked) s += encode_journal_ack(b.tag, b.base, b.ts);
  }
  s += encode_journal_next(j.next);
  return s;
}

Result<Journal> decode_journal(std::string_view text, const std::string& path) {
  Journal j;
  std::map<uint64_t, size_t> by_tag;
  int64_t line_no = 0;
  for (size_t at = 0; at < text.size();) {
    size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) break;  // torn by a machine crash: never acted upon
    std::string_view line = text.substr(at, nl - at);
    at = nl + 1;
    ++line_no;
    auto bad = [&](const std::string& why) {
      return corrupt("journal " + path + ": line " + std::to_string(line_no) + ": " + why);
    };
    json e = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!e.is_object()) return bad("not a JSON object");
    if (line_no == 1) {
      auto pid = e.find("pid");
      auto ep = e.find("pepoch");
      if (pid == e.end() || !is_uint(*pid) || ep == e.end() || !is_uint(*ep) || ep->get<int64_t>() > INT16_MAX)
        return bad("want {\"pid\":ID,\"pepoch\":EPOCH} first");
      j.pid = pid->get<int64_t>();
      j.pepoch = static_cast<int16_t>(ep->get<int64_t>());
      continue;
    }
    if (auto b = e.find("b"); b != e.end()) {
      auto r = e.find("r");
      if (!b->is_array() || b->size() != 5 || r == e.end() || !r->is_array()) return bad("bad batch");
      if (!is_u64((*b)[0])) return bad("bad batch");
      for (size_t i = 1; i < b->size(); ++i)
        if (!is_uint((*b)[i])) return bad("bad batch");
      JournalBatch x;
      x.tag = (*b)[0].get<uint64_t>();
      int64_t p = (*b)[1].get<int64_t>(), seq = (*b)[2].get<int64_t>(), n = (*b)[3].get<int64_t>();
      int64_t check = (*b)[4].get<int64_t>();
      if (p > INT32_MAX || seq > INT32_MAX || n < 1 || n > INT32_MAX || check > UINT32_MAX)
        return bad("batch numbers out of range");
      x.partition = static_cast<int32_t>(p);
      x.first_seq = static_cast<int32_t>(seq);
      x.count = static_cast<int32_t>(n);
      x.check = static_cast<uint32_t>(check);
      int64_t lines = 0;
      for (const auto& rv : *r) {
        if (!rv.is_array() || rv.size() != 6) return bad("bad run");
        if (!is_u64(rv[0]) || !is_u64(rv[1])) return bad("bad run");
        for (size_t i = 2; i < rv.size(); ++i)
          if (!is_uint(rv[i])) return bad("bad run");
        JournalRun run{rv[0].get<uint64_t>(), rv[1].get<uint64_t>(), rv[2].get<int64_t>(),
                       rv[3].get<int64_t>(),  rv[4].get<int64_t>(),  rv[5].get<int64_t>()};
        if (run.count < 1 || run.count > x.count || run.to - run.from < run.count - 1 || run.to <= run.from)
          return bad("bad run");
        lines += run.count;  // at most x.count runs of at most x.count lines: no overflow
        if (lines > x.count) return bad("runs hold more lines than " + std::to_string(n));
        x.runs.push_back(run);
      }
      if (lines != x.count) return bad("runs hold " + std::to_string(lines) + " lines, not " + std::to_string(n));
      if (!by_tag.emplace(x.tag, j.batches.size()).second) return bad("batch " + std::to_string(x.tag) + " twice");
      set_next(j.next, x.partition, seq_add(x.first_seq, x.count));
      j.batches.push_back(std::move(x));
    } else if (auto a = e.find("a"); a != e.end()) {
      if (!a->is_array() || a->size() != 3 || !is_u64((*a)[0]) || !is_int((*a)[1]) || !is_int((*a)[2]))
        return bad("bad ack");
      auto it = by_tag.find((*a)[0].get<uint64_t>());
      if (it == by_tag.end()) return bad("ack of an unknown batch");
      JournalBatch& x = j.batches[it->second];
      x.acked = true;
      x.base = (*a)[1].get<int64_t>();
      x.ts = (*a)[2].get<int64_t>();
    } else if (auto xr = e.find("x"); xr != e.end()) {
      if (!xr->is_array() || xr->size() != 1 || !is_u64((*xr)[0])) return bad("bad release");
      auto it = by_tag.find((*xr)[0].get<uint64_t>());
      if (it == by_tag.end()) return bad("release of an unknown batch");
      JournalBatch& gone = j.batches[it->second];
      gone.released = true;
      // As Producer::close_sequence_hole did: later batches move down.
      for (size_t i = it->second + 1; i < j.batches.size(); ++i)
        if (j.batches[i].partition == gone.partition)
          j.batches[i].first_seq = seq_add(j.batches[i].first_seq, -int64_t{gone.count});
      for (auto& [q, s] : j.next)
        if (q == gone.partition) s = seq_add(s, -int64_t{gone.count});
    } else if (auto n = e.find("n"); n != e.end()) {
      if (!n->is_array()) return bad("bad next sequences");
      for (const auto& pv : *n) {
        if (!pv.is_array() || pv.size() != 2 || !is_uint(pv[0]) || !is_uint(pv[1]) ||
            pv[0].get<int64_t>() > INT32_MAX || pv[1].get<int64_t>() > INT32_MAX)
          return bad("bad next sequence");
        set_next(j.next, static_cast<int32_t>(pv[0].get<int64_t>()), static_cast<int32_t>(pv[1].get<int64_t>()));
      }
    } else {
      return bad("unknown entry");
    }
  }
  if (line_no == 0) return corrupt("journal " + path + ": empty");
  return j;
}

JournalWriter::~JournalWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status JournalWriter::rewrite(const std::string& text) {
  // Rename over the old one: a kill at any moment leaves one whole journal.
  // No fsync (see the top): this runs at every state save.
  const std::string tmp = path_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status("open", tmp, errno);
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return errno_status("write", tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::close(fd);
    return errno_status("rename", tmp, err);
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  return Status::ok();
}

Status JournalWriter::append(const std::string& lines) {
  if (fd_ < 0) return Status(Code::kInternal, "append to journal " + path_ + " before it was written");
  for (size_t done = 0; done < lines.size();) {
    ssize_t n = ::write(fd_, lines.data() + done, lines.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("write", path_, errno);
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

Status JournalWriter::remove() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) return errno_status("unlink", path_, errno);
  return Status::ok();
}

}  // namespace kreek::cli
