// kproduce --follow --state, restarted: what the journal (FILE.inflight) says
// was sent beyond the acknowledged positions, rebuilt byte for byte from the
// followed files, so those batches go out again with the producer id and
// sequence numbers they had (the broker answers a batch it already wrote
// with its original offsets), and the lines between them that never made it
// into a sent batch go out as new records. Built before the producer starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "cli/follow_journal.h"
#include "cli/follow_state.h"
#include "client/producer.h"

namespace kreek::cli {

// One line after a file's acknowledged position, up to the end of the last
// journaled line of that file.
struct ReplayLine {
  size_t file = 0;       // index into ResumePlan::files
  int64_t line = 0;      // its number in the file
  int64_t end_pos = 0;   // the byte after it
  std::string text;      // without its '\n'
  int batch = -1;        // index into ResumePlan::batches; -1: in no journaled batch, send it anew
  int64_t offset = -1;   // with an acknowledged batch: its offset
};

struct ReplayFile {
  uint64_t dev = 0;
  uint64_t ino = 0;
  std::string path;
  int64_t acked_pos = 0, acked_line = 0;  // from the state: what is settled
  int64_t read_pos = 0, read_line = 0;    // past the last ReplayLine: where following goes on
};

struct ResumePlan {
  client::ProducerResume producer;
  std::vector<JournalBatch> batches;  // journal order; acked ones are not resent
  std::vector<std::vector<size_t>> batch_lines;  // per batch: its ReplayLines in batch order
  std::vector<ReplayFile> files;
  std::vector<ReplayLine> lines;      // file by file, in position order
  int64_t resend_records = 0;         // in batches not acknowledged
};

// The plan for resuming from `saved` and STATE.inflight. nullopt when there
// is none to follow, with `why` set for -v when a journal exists but cannot
// be used (no producer id in the state, a journaled file gone or changed):
// then the lines in flight are sent again as new (at-least-once).
std::optional<ResumePlan> plan_resume(const std::string& state_path, const FollowState& saved, std::string* why);

// The journal a run that resumes with `plan` starts with: its batches under
// the tags `tags` (per batch, its first line's tag in this run).
Journal resumed_journal(const ResumePlan& plan, const std::vector<uint64_t>& first_tags);

}  // namespace kreek::cli
