// DataDir: what proves that a directory, or an entry in it, is kreek's. A
// broker may be pointed at the wrong directory (--data-dir ~), and users put
// things beside kreek's files; it removes only what these checks vouch for.
// The proof is the data dir id in meta.json, written when kreek created the
// directory, and the same id in a partition.json marker in every partition
// directory it creates (kreek-format(5)).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kreek::storage {

inline constexpr std::string_view kMetaName = "meta.json";
inline constexpr std::string_view kPartitionMarkerName = "partition.json";
// A partition's leader epoch history (PartitionLog::epochs()).
inline constexpr std::string_view kEpochCheckpointName = "leader-epoch-checkpoint";
// Every partition's high watermark, at the top of the data directory (LogManager).
inline constexpr std::string_view kReplicationCheckpointName = "replication-offset-checkpoint";
// Where a standalone broker keeps its embedded coordinator's metadata log.
inline constexpr std::string_view kCoordinatorDirName = "coordinator";

// A data directory claimed for this process (the caller holds its lock).
// A missing meta.json is written with a new random id; a format 1 meta.json
// from before ids gets one. kCorrupt if meta.json is not kreek's format 1.
Result<std::string> load_or_create_data_dir_id(const std::string& dir);

struct DirEntry {
  std::string name;
  bool is_dir = false;  // a symbolic link is not a directory here
};
// The entries of `dir` (no "." or ".."); d_type spares a stat per entry.
Result<std::vector<DirEntry>> list_dir(const std::string& dir);

// The cluster a data directory has joined, kept in meta.json: its id ("" if
// it never joined one) and whether that was a standalone broker's embedded
// coordinator (whose topic ids mean nothing to a real cluster).
struct ClusterMembership {
  std::string cluster_id;
  bool standalone = false;
};
Result<ClusterMembership> read_cluster_membership(const std::string& dir);
// Rewrites meta.json with the membership, keeping its other fields.
Status write_cluster_membership(const std::string& dir, const ClusterMembership& m);

// Before anything is written into `dir`: kIoError, naming the first entry,
// if it has no meta.json yet is not empty. Entries an interrupted first start
// of kreek can leave (.lock, an empty topics/, its own temp files) do not count.
Status check_may_become_data_dir(const std::string& dir);

// Entry names kreek writes in a partition directory: segment files
// ("<20 digits>.log", ".index", ".timeindex" and compaction's ".cleaned",
// ".swap", ".replaced" forms), the marker, the leader epoch checkpoint, the
// producer snapshot (producer_state.h) and write_file_atomically's temp files.
bool is_partition_entry_name(std::string_view name);
// Names kreek writes at the top of a data directory, besides partition directories.
bool is_data_dir_file_name(std::string_view name);

// Whether partition directory `dir` may be removed as this data dir's (`id`):
// its marker names `id`, or is unreadable (cut short by a crash) in a
// directory whose segments hold no record, or (a directory from before markers)
// it has no marker, holds at least one segment log and nothing but kreek's names. On
// false, `why_not` says what is missing. kIoError if it cannot be listed.
Result<bool> is_own_partition_dir(const std::string& dir, const std::string& id, std::string* why_not);

// Creates partition directory `dir` if missing and writes its marker if
// missing or naming another id. Nothing is fsynced here: the caller fsyncs
// the data directory once after a batch of partitions (before it commits
// their topic file), and the partition directory's entries reach the disk
// with its first segment sync (Kafka flushes a new log's directory lazily
// too). Five fsyncs per partition made creating 2,000 partitions take a
// minute. A crash before those syncs leaves an uncommitted directory, which
// start-up removes (an empty or cut-short marker in a directory whose segments
// hold no record is still ours: is_own_partition_dir), or, for a committed
// topic, one that open() completes again.
Status prepare_partition_dir(const std::string& dir, const std::string& id, const std::string& topic,
                             int32_t partition);

// Unlinks the entries kreek writes in partition directory `dir`, then the
// directory itself and fsyncs its parent. Entries kreek never writes are left
// where they are, and so is the directory: `*left` then names one of them
// ("" if the directory is gone or was already missing).
Status remove_partition_dir(const std::string& dir, std::string* left);

}  // namespace kreek::storage
