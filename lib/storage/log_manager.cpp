// LogManager: the data directory's lock, topic metadata files, the
// recovery-point checkpoint and the partition logs of every topic.
#include "storage/log_manager.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <thread>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "base/clock.h"
#include "base/json_value.h"
#include "base/topic_name.h"
#include "storage/compactor.h"
#include "storage/data_dir.h"

namespace kreek::storage {
namespace {

using nlohmann::json;

constexpr std::string_view kCheckpointName = "recovery-point-offset-checkpoint";
constexpr std::string_view kCleanerCheckpointName = "cleaner-offset-checkpoint";

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }
std::string partition_key(const std::string& topic, int32_t p) { return topic + "-" + std::to_string(p); }

Status unknown_topic(const std::string& name) {
  return Status(Code::kUnknownTopic, "topic " + in_quotes(name) + " does not exist");
}


bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string topic_json(const TopicInfo& t) {
  json j = {{"name", t.name}, {"partitions", t.partitions}, {"config", t.overrides},
            {"created_ms", t.created_ms}};
  if (!t.topic_id.empty()) j["topic_id"] = t.topic_id;
  if (t.hosted) j["hosted"] = *t.hosted;
  return j.dump() + "\n";
}

// "<topic>-<p>" -> (topic, p). Topic names may hold '-': the last one splits.
bool parse_partition_dir(const std::string& name, std::string* topic, int32_t* p) {
  size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == name.size()) return false;
  int64_t v = 0;
  for (size_t i = dash + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || v > kMaxPartitions) return false;
    v = v * 10 + (name[i] - '0');
  }
  *topic = name.substr(0, dash);
  *p = static_cast<int32_t>(v);
  return is_valid_topic_name(*topic);
}

// A {"version":1,"offsets":{"<topic>-<p>":N}} file into `out`. false if it
// exists but is not that (a missing file is an empty one); kIoError if it
// cannot be read.
Result<bool> read_offset_checkpoint(const std::string& path, std::map<std::string, int64_t>* out) {
  auto cp = read_small_file(path);
  if (!cp) {
    if (cp.status().code() == Code::kNotFound) return true;
    return cp.status();
  }
  json j = json::parse(*cp, nullptr, false);
  // Comparisons, not value(): a "version" of another type must not throw.
  if (j.is_discarded() || !j.is_object() || !j.contains("version") || j["version"] != 1 || !j.contains("offsets") ||
      !j["offsets"].is_object())
    return false;
  // An entry that is no int64 (a float, 2^64 - 1) is skipped like a missing one.
  for (const auto& [k, v] : j["offsets"].items())
    if (std::optional<int64_t> n = json_int_in(v)) (*out)[k] = *n;
  return true;
}

// `v` as an integer in [lo, hi]. A float, a string or a number out of range
// is a type_error, like the other malformed members of a topic file:
// nlohmann's own get<int32_t>() of 1e70 would be undefined, and of 2^32 + 5
// would wrap to 5.
int64_t int_in_range(const json& v, const char* what, int64_t lo, int64_t hi) {
  if (auto n = json_int_in(v, lo, hi)) return *n;
  throw json::type_error::create(302, std::string(what) + " must be an integer in [" + std::to_string(lo) + ", " +
                                          std::to_string(hi) + "]", &v);
}

// Takes back a partition directory a failed creation prepared: kreek's files
// go, and the directory with them unless someone else's file is in it.
void discard_new_partition_dir(const std::string& data_dir, const std::string& name, int32_t p) {
  std::string left;
  (void)remove_partition_dir(data_dir + "/" + partition_key(name, p), &left);
}

}  // namespace

LogManager::~LogManager() {
  logs_.clear();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Result<std::unique_ptr<LogManager>> LogManager::open(std::string data_dir, LogConfig defaults,
                                                     Reporter reporter, size_t max_open_segments) {
  std::unique_ptr<LogManager> m(new LogManager());
  m->fd_cache_ = std::make_shared<DescriptorCache>(max_open_segments);
  m->data_dir_ = data_dir;
  m->defaults_ = defaults;
  m->reporter_ = reporter;
  auto report = [&](const std::string& msg) {
    if (reporter) reporter(msg);
  };

  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return io_error("create " + data_dir + ": " + ec.message());
  // A directory becomes a data directory only if it holds nothing yet: kreek
  // must never take over (and later clean up) someone else's files.
  if (!std::filesystem::exists(data_dir + "/" + std::string(kMetaName), ec))
    KREEK_RETURN_IF_ERROR(check_may_become_data_dir(data_dir));
  std::string lock_path = data_dir + "/.lock";
  m->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (m->lock_fd_ < 0) return errno_status("open", lock_path, errno);
  if (::flock(m->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return io_error("lock " + data_dir + ": held by another kbroker");
    return errno_status("lock", data_dir, errno);
  }
  // meta.json comes first, so no crash leaves kreek's files without it.
  KREEK_ASSIGN_OR_RETURN(m->data_dir_id_, load_or_create_data_dir_id(data_dir));
  if (::mkdir((data_dir + "/topics").c_str(), 0755) == 0) {
    KREEK_RETURN_IF_ERROR(sync_dir(data_dir));
  } else if (errno != EEXIST) {
    return errno_status("create", data_dir + "/topics", errno);
  }

  // Leftover temp files of interrupted atomic writes: only kreek's own names.
  for (const std::string& d : {data_dir, data_dir + "/topics"}) {
    KREEK_ASSIGN_OR_RETURN(auto names, list_dir(d));
    for (const auto& e : names)
      if (!e.is_dir && is_atomic_temp_name(e.name)) ::unlink((d + "/" + e.name).c_str());
  }

  std::map<std::string, int64_t> points;
  KREEK_ASSIGN_OR_RETURN(bool points_ok, read_offset_checkpoint(data_dir + "/" + std::string(kCheckpointName), &points));
  if (!points_ok) report(data_dir + ": recovery-point checkpoint is unreadable; recovering every partition in full");
  // A partition missing here starts with its high watermark at its log
  // start: what is past it is not known to be replicated.
  std::map<std::string, int64_t> hws;
  KREEK_ASSIGN_OR_RETURN(bool hws_ok, read_offset_checkpoint(
                                          data_dir + "/" + std::string(kReplicationCheckpointName), &hws));
  if (!hws_ok)
    report(data_dir + ": replication-offset checkpoint is unreadable; every high watermark starts at its log start");

  KREEK_ASSIGN_OR_RETURN(auto topic_files, list_dir(data_dir + "/topics"));
  for (const auto& entry : topic_files) {
    const std::string& file = entry.name;
    if (!ends_with(file, ".json")) continue;
    std::string path = data_dir + "/topics/" + file;
    KREEK_ASSIGN_OR_RETURN(std::string text, read_small_file(path));
    auto t = std::make_unique<TopicInfo>();
    try {
      json j = json::parse(text);
      t->name = j.at("name").get<std::string>();
      t->partitions = static_cast<int32_t>(int_in_range(j.at("partitions"), "partitions", 1, kMaxPartitions));
      if (j.contains("created_ms"))
        t->created_ms = int_in_range(j["created_ms"], "created_ms", 0, std::numeric_limits<int64_t>::max());
      t->topic_id = j.value("topic_id", std::string());
      if (j.contains("hosted")) {
        if (!j["hosted"].is_array()) throw json::type_error::create(302, "hosted must be an array", &j);
        t->hosted.emplace();
        for (const json& p : j["hosted"])
          t->hosted->insert(static_cast<int32_t>(int_in_range(p, "hosted", 0, kMaxPartitions - 1)));
      }
      json config = j.value("config", json::object());  // named: items() of a temporary dangles
      for (const auto& [k, v] : config.items()) t->overrides[k] = v.get<std::string>();
    } catch (const json::exception& e) {
      return corrupt(path + ": " + e.what());
    }
    if (!is_valid_topic_name(t->name) || t->name + ".json" != file || t->partitions < 1 ||
        t->partitions > kMaxPartitions)
      return corrupt(path + ": bad topic name or partition count");
    // A key that no longer validates is dropped rather than keeping the broker down.
    t->config = defaults;
    for (auto it = t->overrides.begin(); it != t->overrides.end();) {
      auto c = apply_overrides(t->config, {{it->first, it->second}});
      if (c) {
        t->config = *c;
        ++it;
      } else {
        report(path + ": ignoring " + c.status().message());
        it = t->overrides.erase(it);
      }
    }
    m->topics_.emplace(t->name, std::move(t));
  }

  // Partition directories whose topic is gone (a delete interrupted after its
  // json was removed) are finished off here, but only those proven to be this
  // data directory's (is_own_partition_dir); anything else is named once and
  // left alone.
  KREEK_ASSIGN_OR_RETURN(auto entries, list_dir(data_dir));
  std::vector<std::string> strangers;
  for (const auto& entry : entries) {
    const std::string& name = entry.name;
    std::string topic;
    int32_t p;
    if (!entry.is_dir) {
      if (!is_data_dir_file_name(name)) strangers.push_back(name);
      continue;
    }
    if (name == "topics" || name == kCoordinatorDirName) continue;
    if (!parse_partition_dir(name, &topic, &p)) {
      strangers.push_back(name + "/");
      continue;
    }
    auto it = m->topics_.find(topic);
    if (it != m->topics_.end() && p < it->second->partitions && it->second->hosts(p)) continue;
    std::string dir = data_dir + "/" + name;
    std::string why_not;
    KREEK_ASSIGN_OR_RETURN(bool own, is_own_partition_dir(dir, m->data_dir_id_, &why_not));
    if (!own) {
      report(data_dir + ": leaving " + name + "/ although topic " + in_quotes(topic) +
             (it == m->topics_.end() ? " does not exist" : " does not hold that partition") + ": " + why_not);
      continue;
    }
    std::string left;
    KREEK_RETURN_IF_ERROR(remove_partition_dir(dir, &left));
    std::string why = "topic " + in_quotes(topic) +
                      (it == m->topics_.end() ? " does not exist" : " does not hold that partition");
    if (left.empty()) {
      report(data_dir + ": removed " + name + ": " + why);
    } else {
      report(data_dir + ": removed kreek's files from " + name + " (" + why + ") but left the directory: it holds " +
             left + ", which kreek did not write");
    }
  }
  if (!strangers.empty()) {
    std::sort(strangers.begin(), strangers.end());
    std::string names;
    for (size_t i = 0; i < strangers.size() && i < 10; ++i) names += (i ? ", " : "") + strangers[i];
    if (strangers.size() > 10) names += " and " + std::to_string(strangers.size() - 10) + " more";
    report(data_dir + ": leaving " + std::to_string(strangers.size()) +
           " entries kreek did not create: " + names);
  }

  // Where compaction got to; a missing or unreadable file means every
  // compacted log is dirty again, which costs a compaction and loses nothing.
  std::map<std::string, int64_t> cleaned, tombstones;
  auto cc = read_small_file(data_dir + "/" + std::string(kCleanerCheckpointName));
  if (cc) {
    json j = json::parse(*cc, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("version") && j["version"] == 1) {
      for (const char* field : {"offsets", "tombstones"}) {
        if (!j.contains(field) || !j[field].is_object()) continue;
        auto& into = std::string_view(field) == "offsets" ? cleaned : tombstones;
        for (const auto& [k, v] : j[field].items())
          if (std::optional<int64_t> n = json_int_in(v)) into[k] = *n;
      }
    }
  }

  for (const auto& [name, t] : m->topics_) {
    for (int32_t p = 0; p < t->partitions; ++p) {
      if (!t->hosts(p)) continue;
      std::string key = partition_key(name, p);
      // Marks directories made before markers existed as well, so a later
      // deletion can prove them this data directory's.
      KREEK_RETURN_IF_ERROR(prepare_partition_dir(data_dir + "/" + key, m->data_dir_id_, name, p)
                                .with_context("open " + key));
      auto rp = points.find(key);
      Offset point(rp == points.end() ? 0 : rp->second);
      auto c = cleaned.find(key);
      auto log = PartitionLog::open(data_dir + "/" + key, t->config, point, reporter, m->fd_cache_,
                                    /*compacted_before=*/c != cleaned.end() && c->second > 0);
      if (!log) return log.status().with_context("open " + key);
      if (auto hw = hws.find(key); hw != hws.end()) (*log)->restore_high_watermark(Offset(hw->second));
      if (c != cleaned.end()) {
        auto ts = tombstones.find(key);
        Compactor::restore(**log, Offset(c->second), TimestampMs(ts == tombstones.end() ? -1 : ts->second));
      }
      m->logs_.emplace(std::make_pair(name, p), std::move(*log));
    }
  }
  // Partition directories made again above (prepare_partition_dir syncs none).
  KREEK_RETURN_IF_ERROR(sync_dir(data_dir));
  return m;
}

Status LogManager::prepare_new_partition_dirs(const std::string& name,
                                              const std::vector<int32_t>& partitions) const {
  // A few partitions are not worth a thread; thousands are, on a busy disk.
  constexpr size_t kPartitionsPerThread = 64, kMaxThreads = 8;
  const size_t n = partitions.size();
  const size_t threads = std::clamp<size_t>(n / kPartitionsPerThread, 1, kMaxThreads);
  std::vector<Status> results(n);
  auto prepare = [&](size_t first) {
    for (size_t i = first; i < n; i += threads) {
      std::string dir = data_dir_ + "/" + partition_key(name, partitions[i]);
      results[i] = clear_partition_dir(dir);
      if (results[i]) results[i] = prepare_partition_dir(dir, data_dir_id_, name, partitions[i]);
    }
  };
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(prepare, t);
  prepare(0);
  for (auto& h : helpers) h.join();
  auto failed = std::find_if(results.begin(), results.end(), [](const Status& s) { return !s; });
  if (failed == results.end()) return Status::ok();
  // The directories made for the others go again, so a failed creation leaves
  // nothing of its own behind (only what it found in its way).
  for (size_t i = 0; i < n; ++i)
    if (results[i]) discard_new_partition_dir(data_dir_, name, partitions[i]);
  return *failed;
}

Status LogManager::open_new_partitions(const std::string& name, const std::vector<int32_t>& partitions,
                                       const LogConfig& config,
                                       std::vector<std::pair<int32_t, std::unique_ptr<PartitionLog>>>& out) const {
  KREEK_RETURN_IF_ERROR(prepare_new_partition_dirs(name, partitions));
  const size_t before = out.size();
  for (size_t i = 0; i < partitions.size(); ++i) {
    std::string dir = data_dir_ + "/" + partition_key(name, partitions[i]);
    auto log = PartitionLog::open(dir, config, Offset(0), reporter_);
    if (log) {
      out.emplace_back(partitions[i], std::move(*log));
      continue;
    }
    // Nothing of this creation stays: the logs opened go first (a shortage of
    // descriptors is the likely cause, and they hold three each), then the
    // directories prepared for this partition and the ones after it.
    for (size_t k = before; k < out.size(); ++k) (void)out[k].second->remove();
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(before), out.end());
    for (size_t j = i; j < partitions.size(); ++j) discard_new_partition_dir(data_dir_, name, partitions[j]);
    return log.status();
  }
  // Every new directory's entry, before the caller commits the topic file.
  return partitions.empty() ? Status::ok() : sync_dir(data_dir_);
}

void LogManager::adopt_new_logs(const std::string& name,
                                std::vector<std::pair<int32_t, std::unique_ptr<PartitionLog>>>& logs) {
  for (auto& [p, l] : logs) {
    l->attach_descriptor_cache(fd_cache_);
    logs_.emplace(std::make_pair(name, p), std::move(l));
  }
  logs.clear();
}

Status LogManager::refuse_if_busy(const std::string& name) const {
  if (!is_busy(name)) return Status::ok();
  return Status(Code::kUnavailable, "topic " + in_quotes(name) + " is getting new partition logs; try again");
}

Result<std::unique_ptr<NewLogs>> LogManager::begin_create_topic(const std::string& name, int32_t partitions,
                                                                 const std::map<std::string, std::string>& overrides,
                                                                 const std::string& topic_id,
                                                                 const std::optional<std::set<int32_t>>& hosted) {
  if (!is_valid_topic_name(name))
    return invalid_request("topic name " + in_quotes(name) + " is not 1-249 of [A-Za-z0-9._-] (nor . or ..)");
  if (topics_.count(name)) return Status(Code::kTopicExists, "topic " + in_quotes(name) + " already exists");
  if (is_busy(name)) return Status(Code::kLeaderNotAvailable, "topic " + in_quotes(name) + " is being created");
  if (partitions < 1 || partitions > kMaxPartitions)
    return invalid_request("partitions: " + std::to_string(partitions) + " is not in [1, " +
                           std::to_string(kMaxPartitions) + "]");
  KREEK_ASSIGN_OR_RETURN(LogConfig config, apply_overrides(defaults_, overrides));

  auto job = std::make_unique<NewLogs>();
  job->creates_topic = true;
  TopicInfo& t = job->topic;
  t.name = name;
  t.partitions = partitions;
  t.overrides = overrides;
  t.config = config;
  t.created_ms = clock::now_ms();
  t.topic_id = topic_id;
  t.hosted = hosted;
  for (int32_t p = 0; p < partitions; ++p)
    if (t.hosts(p)) job->wanted.push_back(p);
  busy_.insert(name);
  return job;
}

Result<std::unique_ptr<NewLogs>> LogManager::begin_add_partitions(const std::string& name, int32_t total,
                                                                  const std::set<int32_t>& hosted) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return unknown_topic(name);
  KREEK_RETURN_IF_ERROR(refuse_if_busy(name));
  const TopicInfo& t = *it->second;
  if (total <= t.partitions || total > kMaxPartitions)
    return invalid_request("partitions: " + std::to_string(total) + " is not in [" +
                           std::to_string(t.partitions + 1) + ", " + std::to_string(kMaxPartitions) + "]");
  auto job = std::make_unique<NewLogs>();
  job->topic = t;
  job->topic.partitions = total;
  for (int32_t p = t.partitions; p < total; ++p) {
    if (job->topic.hosted && hosted.count(p) != 0) job->topic.hosted->insert(p);
    if (job->topic.hosts(p)) job->wanted.push_back(p);
  }
  busy_.insert(name);
  return job;
}

void LogManager::make_new_logs(NewLogs& job) const {
  // Logs first, the topic file last: the file is the commit point, and open()
  // removes partition directories that have none.
  const TopicInfo& t = job.topic;
  job.made = open_new_partitions(t.name, job.wanted, t.config, job.logs);
  if (job.made) job.made = write_file_atomically(data_dir_ + "/topics/" + t.name + ".json", topic_json(t));
  if (!job.made) {
    for (auto& [p, l] : job.logs) (void)l->remove();
    job.logs.clear();
  }
}

Result<const TopicInfo*> LogManager::finish_new_logs(std::unique_ptr<NewLogs> job) {
  const std::string name = job->topic.name;
  busy_.erase(name);
  if (!job->made)
    return job->made.with_context((job->creates_topic ? "create topic " : "add partitions to topic ") + in_quotes(name));
  adopt_new_logs(name, job->logs);
  if (job->creates_topic) {
    auto t = std::make_unique<TopicInfo>(std::move(job->topic));
    const TopicInfo* out = t.get();
    topics_.emplace(name, std::move(t));
    return out;
  }
  TopicInfo& t = *topics_.at(name);  // a busy topic is never deleted
  t = std::move(job->topic);
  return &t;
}

Result<const TopicInfo*> LogManager::create_topic(const std::string& name, int32_t partitions,
                                                  const std::map<std::string, std::string>& overrides,
                                                  const std::string& topic_id,
                                                  const std::optional<std::set<int32_t>>& hosted) {
  KREEK_ASSIGN_OR_RETURN(auto job, begin_create_topic(name, partitions, overrides, topic_id, hosted));
  make_new_logs(*job);
  return finish_new_logs(std::move(job));
}

Result<const TopicInfo*> LogManager::add_partitions(const std::string& name, int32_t total,
                                                    const std::set<int32_t>& hosted) {
  KREEK_ASSIGN_OR_RETURN(auto job, begin_add_partitions(name, total, hosted));
  make_new_logs(*job);
  return finish_new_logs(std::move(job));
}

Status LogManager::clear_partition_dir(const std::string& dir) const {
  // What a new partition may start from: nothing, an empty directory (it
  // holds nothing to lose), or a leftover proven to be this data directory's,
  // which holds no committed data (its topic file does not exist).
  auto entries = list_dir(dir);
  if (!entries) return entries.status().code() == Code::kNotFound ? Status::ok() : entries.status();
  if (entries->empty()) return Status::ok();
  std::string why_not;
  KREEK_ASSIGN_OR_RETURN(bool own, is_own_partition_dir(dir, data_dir_id_, &why_not));
  std::string left;
  if (own) KREEK_RETURN_IF_ERROR(remove_partition_dir(dir, &left));
  if (!own || !left.empty())
    return io_error(dir + " exists and is not kreek's to reuse (" +
                    (own ? "it holds " + left + ", which kreek did not write" : why_not) + ")");
  return Status::ok();
}

Status LogManager::delete_topic(const std::string& name) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return unknown_topic(name);
  KREEK_RETURN_IF_ERROR(refuse_if_busy(name));
  // The topic file goes first and durably: after a crash, open() finishes the job.
  std::string path = data_dir_ + "/topics/" + name + ".json";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_status("unlink", path, errno);
  KREEK_RETURN_IF_ERROR(sync_dir(data_dir_ + "/topics"));
  Status first;
  for (int32_t p = 0; p < it->second->partitions; ++p) {
    auto l = logs_.find({name, p});
    if (l == logs_.end()) continue;
    Status s = l->second->remove();
    if (!s && first) first = s;
    logs_.erase(l);
  }
  topics_.erase(it);
  return first;
}

Result<const TopicInfo*> LogManager::alter_topic(const std::string& name,
                                                 const std::map<std::string, std::string>& changes) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return unknown_topic(name);
  KREEK_RETURN_IF_ERROR(refuse_if_busy(name));
  TopicInfo& t = *it->second;
  std::map<std::string, std::string> next = t.overrides;
  for (const auto& [k, v] : changes) {
    if (v.empty()) {
      if (!config_key_docs().count(k)) return invalid_request("unknown config key " + in_quotes(k));
      next.erase(k);
    } else {
      next[k] = v;
    }
  }
  KREEK_ASSIGN_OR_RETURN(LogConfig config, apply_overrides(defaults_, next));
  TopicInfo updated = t;
  updated.overrides = next;
  updated.config = config;
  KREEK_RETURN_IF_ERROR(write_file_atomically(data_dir_ + "/topics/" + name + ".json", topic_json(updated)));
  t = std::move(updated);
  for (int32_t p = 0; p < t.partitions; ++p) {
    auto l = logs_.find({name, p});
    if (l != logs_.end()) l->second->set_config(t.config);
  }
  return &t;
}

Status LogManager::set_topic_id(const std::string& name, const std::string& topic_id) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return unknown_topic(name);
  KREEK_RETURN_IF_ERROR(refuse_if_busy(name));
  TopicInfo updated = *it->second;
  updated.topic_id = topic_id;
  KREEK_RETURN_IF_ERROR(write_file_atomically(data_dir_ + "/topics/" + name + ".json", topic_json(updated)));
  *it->second = std::move(updated);
  return Status::ok();
}

Status LogManager::set_hosted(const std::string& name, const std::set<int32_t>& hosted) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return unknown_topic(name);
  KREEK_RETURN_IF_ERROR(refuse_if_busy(name));
  TopicInfo& t = *it->second;
  if (t.hosted && *t.hosted == hosted) return Status::ok();
  TopicInfo updated = t;
  updated.hosted = hosted;
  std::vector<int32_t> wanted;
  for (int32_t p : hosted)
    if (p < t.partitions && logs_.count({name, p}) == 0) wanted.push_back(p);
  std::vector<std::pair<int32_t, std::unique_ptr<PartitionLog>>> logs;
  Status s = open_new_partitions(name, wanted, t.config, logs);
  // The topic file commits the new set; logs dropped from it go after.
  if (s) s = write_file_atomically(data_dir_ + "/topics/" + name + ".json", topic_json(updated));
  if (!s) {
    for (auto& [p, l] : logs) (void)l->remove();
    return s.with_context("change the partitions held of topic " + in_quotes(name));
  }
  adopt_new_logs(name, logs);
  Status first;
  for (int32_t p = 0; p < t.partitions; ++p) {
    if (hosted.count(p) != 0) continue;
    auto l = logs_.find({name, p});
    if (l == logs_.end()) continue;
    Status r = l->second->remove();
    if (!r && first) first = r;
    logs_.erase(l);
  }
  t = std::move(updated);
  return first;
}

Status LogManager::remove_partition(const std::string& name, PartitionId p) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return unknown_topic(name);
  KREEK_RETURN_IF_ERROR(refuse_if_busy(name));
  if (logs_.count({name, p.value()}) == 0) return Status::ok();
  std::set<int32_t> held;
  for (int32_t i = 0; i < it->second->partitions; ++i)
    if (i != p.value() && it->second->hosts(i)) held.insert(i);
  return set_hosted(name, held);
}

const TopicInfo* LogManager::topic(const std::string& name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second.get();
}

std::vector<const TopicInfo*> LogManager::topics() const {
  std::vector<const TopicInfo*> out;
  for (const auto& [n, t] : topics_) out.push_back(t.get());
  return out;
}

PartitionLog* LogManager::log(const std::string& topic, PartitionId p) {
  auto it = logs_.find({topic, p.value()});
  return it == logs_.end() ? nullptr : it->second.get();
}

std::vector<LogManager::Entry> LogManager::logs() {
  std::vector<Entry> out;
  for (auto& [key, l] : logs_) out.push_back(Entry{topics_.at(key.first).get(), PartitionId(key.second), l.get()});
  return out;
}

Status LogManager::write_recovery_checkpoint() {
  json offsets = json::object();
  for (const auto& [key, l] : logs_)
    offsets[partition_key(key.first, key.second)] = l->recovery_point().value();
  json j = {{"version", 1}, {"offsets", offsets}};
  KREEK_RETURN_IF_ERROR(write_file_atomically(data_dir_ + "/" + std::string(kCheckpointName), j.dump() + "\n"));
  // Written alongside, so every path that checkpoints one checkpoints both.
  return write_replication_checkpoint();
}

Status LogManager::write_replication_checkpoint() {
  json offsets = json::object();
  for (const auto& [key, l] : logs_)
    offsets[partition_key(key.first, key.second)] = l->high_watermark().value();
  json j = {{"version", 1}, {"offsets", offsets}};
  return write_file_atomically(data_dir_ + "/" + std::string(kReplicationCheckpointName), j.dump() + "\n");
}

std::string LogManager::cleaner_checkpoint_contents() const {
  json offsets = json::object(), tombstones = json::object();
  for (const auto& [key, l] : logs_) {
    const CleanerState& c = l->cleaner();
    // A log compacted once keeps its entry when compaction is turned off:
    // the entry is what tells the next start-up its gaps are not damage.
    if (!l->config().cleanup_compact && c.cleaned_to.value() == 0) continue;
    std::string k = partition_key(key.first, key.second);
    offsets[k] = c.cleaned_to.value();
    if (c.oldest_tombstone.value() >= 0) tombstones[k] = c.oldest_tombstone.value();
  }
  json j = {{"version", 1}, {"offsets", offsets}, {"tombstones", tombstones}};
  return j.dump() + "\n";
}

Status LogManager::write_cleaner_checkpoint(const std::string& contents) const {
  return write_file_atomically(data_dir_ + "/" + std::string(kCleanerCheckpointName), contents);
}

Status LogManager::flush_all() {
  Status first;
  for (auto& [key, l] : logs_) {
    Status s = l->flush();
    if (!s && first) first = s.with_context("flush " + partition_key(key.first, key.second));
  }
  Status cp = write_recovery_checkpoint();
  return first ? cp : first;
}

}  // namespace kreek::storage
