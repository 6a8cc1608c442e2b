// kconsume --checkpoint FILE: the next offset to read per partition,
//   {"topic":"t","offsets":{"0":43,"1":7}}
// Read at start (it overrides --from for the partitions it names) and written
// at exit after output is flushed, atomically: temp file, fsync, rename, fsync dir.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "base/status.h"

namespace kreek::cli {

struct Checkpoint {
  std::string topic;
  std::map<int32_t, int64_t> offsets;  // partition -> next offset
};

// nullopt if the file does not exist. Errors: kCorrupt for a malformed file,
// kIoError for one that cannot be read.
Result<std::optional<Checkpoint>> load_checkpoint(const std::string& path);
Status save_checkpoint(const std::string& path, const Checkpoint& cp);

// Whether save_checkpoint could write `path`: its directory exists and is
// writable. Checked before anything is printed, so a run that cannot save its
// positions prints nothing (else cron would export the same records forever).
Status check_checkpoint_writable(const std::string& path);

std::string encode_checkpoint(const Checkpoint& cp);
Result<Checkpoint> decode_checkpoint(std::string_view text, const std::string& path);

}  // namespace kreek::cli
