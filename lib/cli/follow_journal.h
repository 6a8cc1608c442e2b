// kproduce --follow --state FILE: FILE.inflight, the journal of batches sent
// and not yet known settled, so a restart (also after kill -9) resends them
// with the same producer id and sequence numbers and the broker answers a
// batch it already wrote with its original offsets instead of storing it
// twice. One JSON object per line, appended with write(2) before the batch
// is written to a connection (no fsync: a process crash keeps the page
// cache, a machine crash gives at-least-once):
//   {"pid":7,"pepoch":0}                                   first line: the producer
//   {"b":[TAG,P,SEQ,N,CHECK],"r":[[DEV,INO,LINE,FROM,TO,K],...]}  a batch (before its send)
//   {"a":[TAG,BASE,TS]}                                    the batch TAG was acknowledged
//   {"x":[TAG]}                                            TAG was refused for good: its numbers
//                                                          went to its partition's later batches
//   {"n":[[P,SEQ],...]}                                    next sequence per partition (at a rewrite)
// kreek-format(5) has the field table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kreek::cli {

// K consecutive lines of one file, bytes [from, to): each ends with '\n'
// except perhaps the last (a partial line sent after --partial-wait-ms).
struct JournalRun {
  uint64_t dev = 0;
  uint64_t ino = 0;
  int64_t line = 0;  // the first line's number
  int64_t from = 0;
  int64_t to = 0;
  int64_t count = 0;
};

struct JournalBatch {
  uint64_t tag = 0;  // the first record's tag in the run that wrote it (names the batch)
  int32_t partition = 0;
  int32_t first_seq = 0;
  int32_t count = 0;
  uint32_t check = 0;  // line_check() of its lines chained in order (journal_check)
  std::vector<JournalRun> runs;
  bool acked = false;
  int64_t base = -1;  // with acked: the offset of its first record
  int64_t ts = -1;
  bool released = false;  // refused for good; its numbers were reused
};

struct Journal {
  int64_t pid = -1;
  int16_t pepoch = 0;
  std::vector<std::pair<int32_t, int32_t>> next;  // (partition, next sequence), as of the last line
  std::vector<JournalBatch> batches;              // in journal (creation) order
};

// The checksum of one line's text (without its '\n'), and the chaining of
// such checksums over a batch's lines in order.
uint32_t line_check(std::string_view line);
uint32_t chain_check(uint32_t check, uint32_t line_check);

std::string encode_journal_head(int64_t pid, int16_t pepoch);
std::string encode_journal_batch(const JournalBatch& b);
std::string encode_journal_ack(uint64_t tag, int64_t base, int64_t ts);
std::string encode_journal_release(uint64_t tag);
std::string encode_journal_next(const std::vector<std::pair<int32_t, int32_t>>& next);
// The whole text of a rewritten journal: head, batches (with their acks), next.
std::string encode_journal(const Journal& j);

// Decodes a journal, applying acks, releases (moving the partition's later
// batches down) and sequence numbers as the producer did. A last line
// without its '\n' (torn by a machine crash) is ignored. Errors: kCorrupt
// "journal FILE: why" for anything else that is not what the encoders wrote.
Result<Journal> decode_journal(std::string_view text, const std::string& path);

// Appends to FILE.inflight; replaces it whole (temp file and rename, no
// fsync) when the state is saved, keeping only what is still unsettled.
class JournalWriter {
 public:
  explicit JournalWriter(std::string path) : path_(std::move(path)) {}
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;
  // Replaces the journal with `text` and keeps it open for append().
  Status rewrite(const std::string& text);
  // One write(2) of whole lines at the end (returns once in the page cache).
  Status append(const std::string& lines);
  // Removes the journal (a run without idempotence must not leave an old one).
  Status remove();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace kreek::cli
