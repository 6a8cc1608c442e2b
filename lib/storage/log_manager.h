// LogManager: the broker's data directory — which topics exist, their configs,
// and one PartitionLog per partition. Owns the recovery-point checkpoint and the
// directory lock. Single-threaded like PartitionLog, except make_new_logs,
// which may run on a worker thread (see begin_create_topic).
//
//   <data-dir>/.lock                              flock: one broker per directory
//   <data-dir>/meta.json                          {"format":1,"id":"<data dir id>"}
//   <data-dir>/topics/<topic>.json                {"name","partitions","config":{overrides},"created_ms","topic_id"}
//   <data-dir>/recovery-point-offset-checkpoint   {"version":1,"offsets":{"<topic>-<p>":N}}
//   <data-dir>/replication-offset-checkpoint      {"version":1,"offsets":{"<topic>-<p>":HW}}
//   <data-dir>/cleaner-offset-checkpoint          {"version":1,"offsets":{..},"tombstones":{..}}
//   <data-dir>/<topic>-<p>/partition.json         {"data_dir_id","topic","partition"}
//   <data-dir>/<topic>-<p>/leader-epoch-checkpoint  0\n<count>\n<epoch> <start offset>\n...
//   <data-dir>/<topic>-<p>/<20-digit base>.log|.index|.timeindex
//
// Nothing is removed that data_dir.h cannot prove kreek's: a non-empty
// directory without meta.json is refused, and other entries are left alone.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/strong_id.h"
#include "storage/descriptor_cache.h"
#include "storage/log_config.h"
#include "storage/partition_log.h"

namespace kreek::storage {

struct TopicInfo {
  std::string name;
  int32_t partitions = 0;
  std::map<std::string, std::string> overrides;  // as given, Kafka key names
  LogConfig config;                              // defaults + overrides
  int64_t created_ms = 0;
  // The cluster's id for the topic ("" until a coordinator named it): a topic
  // deleted and created again under this name has another id.
  std::string topic_id;
  // The partitions this broker holds a log of, when it holds only some (in a
  // cluster, those it is a replica of); unset means every partition.
  std::optional<std::set<int32_t>> hosted;

  bool hosts(int32_t p) const { return !hosted || hosted->count(p) != 0; }
};

// New partition logs on their way into a LogManager: see begin_create_topic.
struct NewLogs {
  TopicInfo topic;              // the topic as it will be once they are in
  bool creates_topic = false;   // else it adds partitions to an existing topic
  std::vector<int32_t> wanted;  // the partitions to make logs of
  std::vector<std::pair<int32_t, std::unique_ptr<PartitionLog>>> logs;  // made by make_new_logs
  Status made;                  // make_new_logs's outcome
};

class LogManager {
 public:
  // Locks and opens `data_dir` (created if missing), loads every topic and opens
  // its partition logs, recovering each past its checkpointed recovery point.
  // kIoError if `data_dir` has no meta.json and is not empty. Partition
  // directories of topics that no longer exist are removed if proven to be
  // this data directory's; other entries are only reported.
  // `max_open_segments` bounds the .log descriptors closed segments keep
  // open across every partition (DescriptorCache).
  static Result<std::unique_ptr<LogManager>> open(std::string data_dir, LogConfig defaults,
                                                   Reporter reporter,
                                                   size_t max_open_segments = kDefaultMaxOpenSegments);
  ~LogManager();

  // kTopicExists, or kInvalidRequest for a bad name/count/config.
  // `hosted`: the partitions to hold logs of (unset: all).
  Result<const TopicInfo*> create_topic(const std::string& name, int32_t partitions,
                                        const std::map<std::string, std::string>& overrides,
                                        const std::string& topic_id = "",
                                        const std::optional<std::set<int32_t>>& hosted = std::nullopt);
  // create_topic and add_partitions in three steps, so that the file work of
  // thousands of new partitions (directories, markers, empty segments, the
  // topic file: about a dozen system calls each) leaves the owner thread:
  //   begin_*        owner thread: the checks; the topic becomes busy
  //   make_new_logs  any thread: touches only the new partitions' directories
  //                  and the topic's file, which it writes last (the commit
  //                  point, as in create_topic)
  //   finish_new_logs owner thread: the topic and its new logs become visible,
  //                  and it is no longer busy (also if make_new_logs failed)
  // While a topic is busy every other change to it is refused (kUnavailable),
  // and a creation of its name gets kLeaderNotAvailable ("being created").
  Result<std::unique_ptr<NewLogs>> begin_create_topic(const std::string& name, int32_t partitions,
                                                      const std::map<std::string, std::string>& overrides,
                                                      const std::string& topic_id = "",
                                                      const std::optional<std::set<int32_t>>& hosted = std::nullopt);
  Result<std::unique_ptr<NewLogs>> begin_add_partitions(const std::string& name, int32_t total,
                                                        const std::set<int32_t>& hosted = {});
  void make_new_logs(NewLogs& job) const;
  Result<const TopicInfo*> finish_new_logs(std::unique_ptr<NewLogs> job);
  bool is_busy(const std::string& name) const { return busy_.count(name) != 0; }
  // Records the cluster's id of a topic created before it had one.
  Status set_topic_id(const std::string& name, const std::string& topic_id);
  // Raises the partition count to `total`, creating the logs of the new
  // partitions the topic hosts (all, unless it hosts only some: then those of
  // `hosted` among them). kInvalidRequest if `total` is not above the count.
  Result<const TopicInfo*> add_partitions(const std::string& name, int32_t total,
                                          const std::set<int32_t>& hosted = {});
  // Holds logs of exactly `hosted`: new ones start empty, the logs of
  // partitions no longer hosted are removed with their data.
  Status set_hosted(const std::string& name, const std::set<int32_t>& hosted);
  // Removes the log of one partition with its data (the topic stays, holding
  // the others): a broker that stopped being the partition's replica. The
  // topic file records the smaller held set first, so a crash in between
  // finishes the job at open(). OK if no log is held; kUnknownTopic if the
  // topic is missing. The caller makes sure nothing still uses the log.
  Status remove_partition(const std::string& name, PartitionId p);
  Status delete_topic(const std::string& name);  // kUnknownTopic if missing
  // Sets (or, with an empty value, removes) override keys; applies to live logs.
  Result<const TopicInfo*> alter_topic(const std::string& name,
                                       const std::map<std::string, std::string>& changes);

  const TopicInfo* topic(const std::string& name) const;  // null if missing
  std::vector<const TopicInfo*> topics() const;          // sorted by name
  PartitionLog* log(const std::string& topic, PartitionId p);  // null if missing
  // Every open log with its topic and partition, for flush/retention sweeps.
  struct Entry {
    const TopicInfo* topic;
    PartitionId partition;
    PartitionLog* log;
  };
  std::vector<Entry> logs();

  // Atomically rewrites the recovery-point checkpoint from every log's
  // recovery_point() (temp file, fsync, rename, fsync dir), then the
  // replication-offset checkpoint (write_replication_checkpoint).
  Status write_recovery_checkpoint();
  // Atomically rewrites <data-dir>/replication-offset-checkpoint from every
  // log's high_watermark(). open() restores each log's high watermark from
  // it (clamped to the log); a log without an entry starts at its log start.
  Status write_replication_checkpoint();
  // The compactor's position in every compacted log, as the contents of
  // <data-dir>/cleaner-offset-checkpoint (owner thread); write it with
  // write_cleaner_checkpoint, which touches nothing else and may run on a
  // worker thread. open() restores it (Kafka's cleaner-offset-checkpoint).
  std::string cleaner_checkpoint_contents() const;
  Status write_cleaner_checkpoint(const std::string& contents) const;
  // Flushes every log and writes the checkpoint: the clean-shutdown path.
  Status flush_all();

  const LogConfig& defaults() const { return defaults_; }
  const std::string& data_dir() const { return data_dir_; }
  // The id in meta.json: which data directory this is, wherever it is mounted.
  const std::string& data_dir_id() const { return data_dir_id_; }

 private:
  LogManager() = default;
  // Makes way for a new partition directory `dir`; kIoError if something
  // not proven kreek's is in the way.
  Status clear_partition_dir(const std::string& dir) const;
  // clear_partition_dir and prepare_partition_dir for each of `partitions`,
  // on several threads when there are many: a partition's directory listing,
  // mkdir and marker take a few file system calls, each a fraction of a
  // millisecond on a busy disk, and they wait side by side, not in turn.
  Status prepare_new_partition_dirs(const std::string& name, const std::vector<int32_t>& partitions) const;
  // Opens empty logs for `partitions` of `name` into `out`; the caller
  // commits them with the topic file or removes them if that fails. A
  // failure here removes what it made itself: `out` is as it was.
  // They are opened without the descriptor cache (any thread may run this):
  // adopt_new_logs attaches it on the owner thread.
  Status open_new_partitions(const std::string& name, const std::vector<int32_t>& partitions,
                             const LogConfig& config,
                             std::vector<std::pair<int32_t, std::unique_ptr<PartitionLog>>>& out) const;
  void adopt_new_logs(const std::string& name,
                      std::vector<std::pair<int32_t, std::unique_ptr<PartitionLog>>>& logs);
  // kUnavailable while new logs of `name` are being made (see is_busy).
  Status refuse_if_busy(const std::string& name) const;
  std::string data_dir_;
  std::string data_dir_id_;  // meta.json "id", written into every partition.json
  LogConfig defaults_;
  Reporter reporter_;
  int lock_fd_ = -1;
  std::shared_ptr<DescriptorCache> fd_cache_;
  std::map<std::string, std::unique_ptr<TopicInfo>> topics_;
  std::map<std::pair<std::string, int32_t>, std::unique_ptr<PartitionLog>> logs_;
  std::set<std::string> busy_;  // topics with a NewLogs between begin_* and finish_new_logs
};

}  // namespace kreek::storage
