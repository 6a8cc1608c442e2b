// The --state file of kproduce --follow: encoding, strict decoding, and atomic
// replacement (a crash leaves the old or the new file, never a torn one).
#include "cli/follow_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "base/atomic_file.h"

namespace kreek::cli {
namespace {

// A few dozen bytes per followed file; anything near this is not our file.
constexpr size_t kMaxStateBytes = 16 << 20;

}  // namespace

const FileProgress* FollowState::find(uint64_t dev, uint64_t ino) const {
  for (const auto& f : files)
    if (f.dev == dev && f.ino == ino) return &f;
  return nullptr;
}

std::string encode_follow_state(const FollowState& state) {
  nlohmann::ordered_json j;
  j["version"] = kFollowStateVersion;
  j["topic"] = state.topic;
  j["seq"] = state.seq;
  if (state.pid >= 0) {
    j["pid"] = state.pid;
    j["pepoch"] = state.pepoch;
  }
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const auto& f : state.files) {
    nlohmann::ordered_json e;
    e["dev"] = f.dev;
    e["ino"] = f.ino;
    e["path"] = f.path;
    e["pos"] = f.pos;
    e["line"] = f.line;
    files.push_back(std::move(e));
  }
  j["files"] = std::move(files);
  // Paths need not be UTF-8: replace what is not rather than fail the save.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Result<FollowState> decode_follow_state(std::string_view text, const std::string& path) {
  auto bad = [&](const std::string& why) { return corrupt("state " + path + ": " + why); };
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return bad("not a JSON object");
  auto v = j.find("version");
  if (v == j.end() || !v->is_number_integer()) return bad("missing \"version\"");
  if (v->get<int64_t>() != kFollowStateVersion)
    return bad("unknown version " + std::to_string(v->get<int64_t>()));
  FollowState st;
  auto t = j.find("topic");
  if (t == j.end() || !t->is_string()) return bad("missing \"topic\"");
  st.topic = t->get<std::string>();
  if (auto q = j.find("seq"); q != j.end()) {
    if (!q->is_number_unsigned()) return bad("bad \"seq\"");
    st.seq = q->get<uint64_t>();
  }
  if (auto p = j.find("pid"); p != j.end()) {
    auto e = j.find("pepoch");
    if (!p->is_number_unsigned() || e == j.end() || !e->is_number_unsigned() || e->get<uint64_t>() > INT16_MAX ||
        p->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      return bad("bad \"pid\" or \"pepoch\"");
    st.pid = p->get<int64_t>();
    st.pepoch = static_cast<int16_t>(e->get<int64_t>());
  }
  auto fs = j.find("files");
  if (fs == j.end() || !fs->is_array()) return bad("missing \"files\"");
  std::set<std::pair<uint64_t, uint64_t>> seen;
  for (const auto& e : *fs) {
    if (!e.is_object()) return bad("a file entry is not an object");
    FileProgress f;
    for (const char* k : {"dev", "ino"}) {
      auto it = e.find(k);
      if (it == e.end() || !it->is_number_unsigned()) return bad(std::string("bad or missing \"") + k + "\"");
    }
    f.dev = e["dev"].get<uint64_t>();
    f.ino = e["ino"].get<uint64_t>();
    auto p = e.find("path");
    if (p == e.end() || !p->is_string()) return bad("bad or missing \"path\"");
    f.path = p->get<std::string>();
    for (const char* k : {"pos", "line"}) {
      auto it = e.find(k);
      if (it == e.end() || !it->is_number_integer() || it->get<int64_t>() < 0)
        return bad(std::string("bad or missing \"") + k + "\" for " + f.path);
    }
    f.pos = e["pos"].get<int64_t>();
    f.line = e["line"].get<int64_t>();
    if (!seen.emplace(f.dev, f.ino).second) return bad("file " + f.path + " listed twice");
    st.files.push_back(std::move(f));
  }
  return st;
}

Result<std::optional<FollowState>> load_follow_state(const std::string& path) {
  std::optional<FollowState> live;
  const std::string live_path = path + ".live";
  if (auto t = read_small_file(live_path, kMaxStateBytes); t.is_ok()) {
    if (auto st = decode_follow_state(*t, live_path); st.is_ok()) live = std::move(*st);
  }
  auto text = read_small_file(path, kMaxStateBytes);
  if (!text.is_ok()) {
    // No state file: a fresh start, whatever a .live left behind says (the
    // state file is written first thing, so only a user removes it).
    if (text.status().code() == Code::kNotFound) return std::optional<FollowState>();
    return text.status();
  }
  auto st = decode_follow_state(*text, path);
  if (!st.is_ok()) {
    if (live) return live;
    return st.status();
  }
  if (live && live->seq > st->seq) return live;
  return std::optional<FollowState>(std::move(*st));
}

Status save_follow_state(const std::string& path, const FollowState& state) {
  return write_file_atomically(path, encode_follow_state(state));
}

StateWriter::StateWriter(std::string path, uint64_t first_seq) : path_(std::move(path)), seq_(first_seq) {}

StateWriter::~StateWriter() {
  if (live_fd_ >= 0) ::close(live_fd_);
}

Status StateWriter::save_quick(FollowState& state) {
  const std::string live = path_ + ".live";
  if (live_fd_ < 0) {
    live_fd_ = ::open(live.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (live_fd_ < 0) return errno_status("open", live, errno);
    struct stat st {};
    if (::fstat(live_fd_, &st) == 0) live_len_ = static_cast<size_t>(st.st_size);
  }
  state.seq = ++seq_;
  std::string text = encode_follow_state(state);
  if (text.size() < live_len_) text.append(live_len_ - text.size(), ' ');  // JSON ignores it
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::pwrite(live_fd_, text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("write", live, errno);
    done += static_cast<size_t>(n);
  }
  live_len_ = text.size();
  return Status::ok();
}

Status StateWriter::save_durable(FollowState& state) {
  state.seq = ++seq_;
  return save_follow_state(path_, state);
}

}  // namespace kreek::cli
