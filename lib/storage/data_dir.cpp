// DataDir: the data dir id, partition markers, and removal of only what kreek
// wrote (see data_dir.h).
#include "storage/data_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/producer_state.h"

#include "base/atomic_file.h"
#include "base/random_id.h"

namespace kreek::storage {
namespace {

using nlohmann::json;

bool is_segment_file_name(std::string_view name, bool* is_log);

// Whether no segment file of partition directory `dir` holds a byte: its
// other files (indexes, epoch history, producer snapshot) only describe
// records, so such a directory holds nothing anyone could lose.
bool holds_no_records(const std::string& dir, const std::vector<DirEntry>& entries) {
  for (const auto& e : entries) {
    bool is_log = false;
    if (e.is_dir || !is_segment_file_name(e.name, &is_log)) continue;
    struct stat st;
    if (::stat((dir + "/" + e.name).c_str(), &st) != 0 || st.st_size != 0) return false;
  }
  return true;
}

// 128 random bits as 32 hex digits: two data directories never share one.
std::string meta_json(const std::string& id) {
  return json{{"format", 1}, {"id", id}}.dump() + "\n";
}

// "<20 digits>" then one or more of the extensions kreek gives segment files.
bool is_segment_file_name(std::string_view name, bool* is_log) {
  if (name.size() < 22) return false;
  for (size_t i = 0; i < 20; ++i)
    if (name[i] < '0' || name[i] > '9') return false;
  std::string_view rest = name.substr(20);
  *is_log = rest == ".log";
  while (!rest.empty()) {
    if (rest[0] != '.') return false;
    rest.remove_prefix(1);
    size_t dot = rest.find('.');
    std::string_view ext = rest.substr(0, dot);
    if (ext != "log" && ext != "index" && ext != "timeindex" && ext != "cleaned" && ext != "swap" &&
        ext != "replaced" && ext != "tmp" && ext != "deleted")
      return false;
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot);
  }
  return true;
}

}  // namespace

Result<std::vector<DirEntry>> list_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errno_status("open", dir, errno);
  std::vector<DirEntry> out;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n(e->d_name);
    if (n == "." || n == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = ::lstat((dir + "/" + e->d_name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    out.push_back(DirEntry{std::string(n), is_dir});
  }
  ::closedir(d);
  return out;
}


bool is_partition_entry_name(std::string_view name) {
  bool is_log = false;
  return is_segment_file_name(name, &is_log) || name == kPartitionMarkerName ||
         name == kEpochCheckpointName || name == kProducerSnapshotName || is_atomic_temp_name(name);
}

bool is_data_dir_file_name(std::string_view name) {
  return name == ".lock" || name == kMetaName || name == "recovery-point-offset-checkpoint" ||
         name == "cleaner-offset-checkpoint" || name == kReplicationCheckpointName ||
         is_atomic_temp_name(name);
}

Result<ClusterMembership> read_cluster_membership(const std::string& dir) {
  std::string path = dir + "/" + std::string(kMetaName);
  KREEK_ASSIGN_OR_RETURN(std::string text, read_small_file(path, 64 * 1024));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return corrupt(path + ": not a kreek data directory of format 1");
  ClusterMembership m;
  if (auto it = j.find("cluster_id"); it != j.end() && it->is_string()) m.cluster_id = it->get<std::string>();
  if (auto it = j.find("standalone"); it != j.end() && it->is_boolean()) m.standalone = it->get<bool>();
  return m;
}

Status write_cluster_membership(const std::string& dir, const ClusterMembership& m) {
  std::string path = dir + "/" + std::string(kMetaName);
  KREEK_ASSIGN_OR_RETURN(std::string text, read_small_file(path, 64 * 1024));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return corrupt(path + ": not a kreek data directory of format 1");
  j["cluster_id"] = m.cluster_id;
  j["standalone"] = m.standalone;
  return write_file_atomically(path, j.dump() + "\n");
}

Status check_may_become_data_dir(const std::string& dir) {
  KREEK_ASSIGN_OR_RETURN(auto entries, list_dir(dir));
  for (const auto& e : entries) {
    if (e.name == ".lock" || is_atomic_temp_name(e.name)) continue;
    if (e.name == "topics" && e.is_dir) {
      auto inside = list_dir(dir + "/topics");
      if (inside && inside->empty()) continue;
    }
    return io_error(dir + " is not a kreek data directory (no meta.json) and is not empty (" + e.name +
                    "); refusing to use it");
  }
  return Status::ok();
}

Result<std::string> load_or_create_data_dir_id(const std::string& dir) {
  std::string path = dir + "/" + std::string(kMetaName);
  auto text = read_small_file(path, 64 * 1024);
  if (!text) {
    if (text.status().code() != Code::kNotFound) return text.status();
    std::string id = random_id();
    KREEK_RETURN_IF_ERROR(write_file_atomically(path, meta_json(id)));
    return id;
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("format") || j["format"] != 1)
    return corrupt(path + ": not a kreek data directory of format 1");
  if (j.contains("id") && j["id"].is_string() && !j["id"].get<std::string>().empty())
    return j["id"].get<std::string>();
  // A data directory kreek made before ids: it is kreek's, and gets one now.
  std::string id = random_id();
  j["id"] = id;
  KREEK_RETURN_IF_ERROR(write_file_atomically(path, j.dump() + "\n"));
  return id;
}

Result<bool> is_own_partition_dir(const std::string& dir, const std::string& id, std::string* why_not) {
  // The marker is written by prepare_partition_dir before any segment, with
  // the id of the data directory that created it: a directory copied in from
  // another data directory, or made by hand, never carries this id. Before
  // markers existed, kreek wrote nothing but segment files in a partition
  // directory, so one holding a segment log and only such names is a kreek
  // partition log by its content; anything else in it is not ours to judge.
  KREEK_ASSIGN_OR_RETURN(auto entries, list_dir(dir));
  bool has_marker = false, has_log = false;
  std::string stranger;
  for (const auto& e : entries) {
    bool is_log = false;
    if (e.name == kPartitionMarkerName) {
      has_marker = true;
    } else if (!e.is_dir && is_segment_file_name(e.name, &is_log)) {
      has_log = has_log || is_log;
    } else if (!e.is_dir && (e.name == kEpochCheckpointName || e.name == kProducerSnapshotName)) {
      // Written beside the segments (replication, idempotent producers); they prove nothing alone.
    } else if ((e.is_dir || !is_atomic_temp_name(e.name)) && stranger.empty()) {
      stranger = e.name;
    }
  }
  if (has_marker) {
    // Ours even with a stranger inside: removal leaves the stranger alone.
    auto text = read_small_file(dir + "/" + std::string(kPartitionMarkerName), 64 * 1024);
    if (!text && text.status().code() != Code::kCorrupt) return text.status();
    json j = text ? json::parse(*text, nullptr, false) : json();
    const bool readable = j.is_object() && j.contains("data_dir_id") && j["data_dir_id"].is_string();
    if (readable && j["data_dir_id"] == id) return true;
    if (readable) {
      *why_not = "its " + std::string(kPartitionMarkerName) + " names another data directory";
      return false;
    }
    // A marker is not fsynced when written (creating thousands of partitions
    // would wait for an fsync each), so a crash soon after may leave it empty
    // or cut short: then it is ours if no segment holds a record and nothing
    // else is in the way, as in a partition never written to.
    if (stranger.empty() && holds_no_records(dir, entries)) return true;
    *why_not = "its " + std::string(kPartitionMarkerName) + " is unreadable and it holds data";
    return false;
  }
  if (!stranger.empty()) {
    *why_not = "it holds " + stranger + ", which kreek did not write, and no " +
               std::string(kPartitionMarkerName);
    return false;
  }
  if (!has_log) {
    *why_not = "it holds no " + std::string(kPartitionMarkerName) + " and no segment log";
    return false;
  }
  return true;
}

Status prepare_partition_dir(const std::string& dir, const std::string& id, const std::string& topic,
                             int32_t partition) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return errno_status("create", dir, errno);
  std::string path = dir + "/" + std::string(kPartitionMarkerName);
  std::string want =
      json{{"data_dir_id", id}, {"partition", partition}, {"topic", topic}}.dump() + "\n";
  auto have = read_small_file(path, 64 * 1024);
  if (have && *have == want) return Status::ok();
  if (!have && have.status().code() != Code::kNotFound) return have.status();
  return write_file_unsynced(path, want);
}

Status remove_partition_dir(const std::string& dir, std::string* left) {
  left->clear();
  auto entries = list_dir(dir);
  if (!entries) return entries.status().code() == Code::kNotFound ? Status::ok() : entries.status();
  // The marker goes last, so a removal cut short still proves the directory ours.
  bool marker = false;
  for (const auto& e : *entries) {
    if (e.is_dir || !is_partition_entry_name(e.name)) {
      if (left->empty()) *left = e.name;
      continue;
    }
    if (e.name == kPartitionMarkerName) {
      marker = true;
      continue;
    }
    std::string p = dir + "/" + e.name;
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return errno_status("unlink", p, errno);
  }
  if (!left->empty()) return Status::ok();
  if (marker) {
    std::string p = dir + "/" + std::string(kPartitionMarkerName);
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return errno_status("unlink", p, errno);
  }
  if (::rmdir(dir.c_str()) != 0) {
    if (errno == ENOENT) return Status::ok();
    if (errno == ENOTEMPTY || errno == EEXIST) {  // something arrived meanwhile
      *left = "an entry created meanwhile";
      return Status::ok();
    }
    return errno_status("remove", dir, errno);
  }
  size_t slash = dir.rfind('/');
  return sync_dir(slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash));
}

}  // namespace kreek::storage
