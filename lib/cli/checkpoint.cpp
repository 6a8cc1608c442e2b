// Checkpoint files: small JSON, replaced atomically so a crash leaves either
// the old or the new file, never a torn one (leveldb SetCurrentFile).
#include "cli/checkpoint.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"

namespace kreek::cli {
namespace {

// A checkpoint is a few dozen bytes per partition; anything near this is not one.
constexpr size_t kMaxCheckpointBytes = 16 << 20;

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
  auto text = read_small_file(path, kMaxCheckpointBytes);
  if (!text.is_ok()) {
    if (text.status().code() == Code::kNotFound) return std::optional<Checkpoint>();
    return text.status();
  }
  KREEK_ASSIGN_OR_RETURN(Checkpoint cp, decode_checkpoint(*text, path));
  return std::optional<Checkpoint>(std::move(cp));
}

Status check_checkpoint_writable(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  auto fail = [&](const std::string& why) {
    return Status(Code::kIoError, "cannot write checkpoint " + path + ": directory " + dir + " " + why);
  };
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return fail(errno == ENOENT ? "does not exist" : std::string("cannot be read: ") + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return fail("is not a directory");
  // The temp file is created in `dir` and renamed over `path`: both need w+x.
  if (::access(dir.c_str(), W_OK | X_OK) != 0) return fail("is not writable");
  return Status::ok();
}

Status save_checkpoint(const std::string& path, const Checkpoint& cp) {
  return write_file_atomically(path, encode_checkpoint(cp));
}

}  // namespace kreek::cli
