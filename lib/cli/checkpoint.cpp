// Checkpoint files: small JSON, replaced atomically so a crash leaves either
// the old or the new file, never a torn one (leveldb SetCurrentFile).
#include "cli/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

namespace kreek::cli {
namespace {

Status write_fully(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::string encode_checkpoint(const Checkpoint& cp) {
  nlohmann::ordered_json j;
  j["topic"] = cp.topic;
  nlohmann::ordered_json offsets = nlohmann::ordered_json::object();
  for (const auto& [p, o] : cp.offsets) offsets[std::to_string(p)] = o;
  j["offsets"] = std::move(offsets);
  return j.dump() + "\n";
}

Result<Checkpoint> decode_checkpoint(std::string_view text, const std::string& path) {
  auto bad = [&](std::string why) { return corrupt("checkpoint " + path + ": " + why); };
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return bad("not a JSON object");
  Checkpoint cp;
  auto t = j.find("topic");
  if (t == j.end() || !t->is_string()) return bad("missing \"topic\"");
  cp.topic = t->get<std::string>();
  auto o = j.find("offsets");
  if (o == j.end() || !o->is_object()) return bad("missing \"offsets\"");
  for (auto it = o->begin(); it != o->end(); ++it) {
    const std::string& key = it.key();
    char* end = nullptr;
    long p = std::strtol(key.c_str(), &end, 10);
    if (key.empty() || *end != '\0' || p < 0 || p > INT32_MAX)
      return bad("bad partition \"" + key + "\"");
    if (!it->is_number_integer() || it->get<int64_t>() < 0)
      return bad("bad offset for partition " + key);
    cp.offsets[static_cast<int32_t>(p)] = it->get<int64_t>();
  }
  return cp;
}

Result<std::optional<Checkpoint>> load_checkpoint(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<Checkpoint>();
    return errno_status("open", path, errno);
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return errno_status("read", path, e);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (16 << 20)) {
      ::close(fd);
      return corrupt("checkpoint " + path + ": file too large");
    }
  }
  ::close(fd);
  KREEK_ASSIGN_OR_RETURN(Checkpoint cp, decode_checkpoint(text, path));
  return std::optional<Checkpoint>(std::move(cp));
}

Status save_checkpoint(const std::string& path, const Checkpoint& cp) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status("open", tmp, errno);
  Status s = write_fully(fd, encode_checkpoint(cp), tmp);
  if (s.is_ok() && ::fsync(fd) != 0) s = errno_status("fsync", tmp, errno);
  if (::close(fd) != 0 && s.is_ok()) s = errno_status("close", tmp, errno);
  if (s.is_ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = errno_status("rename", tmp, errno);
  if (!s.is_ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  // The rename is durable only once the directory entry is.
  std::string dir = dir_of(path);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::ok();
}

}  // namespace kreek::cli
