// InflightJournal: what one kproduce --follow --state run writes into
// FILE.inflight (follow_journal.h). It learns each input line's source as
// the line is read, writes a batch entry when the producer numbers a batch
// (before its send), notes acks and released numbers, and at each durable
// state save rewrites the journal without what the state already settles.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "cli/follow_journal.h"
#include "cli/follow_state.h"
#include "client/producer.h"

namespace kreek::cli {

class InflightJournal {
 public:
  explicit InflightJournal(std::string path) : writer_(std::move(path)) {}

  // Starts the journal afresh with `initial` (the producer and any batches
  // a restart resends). Before any record is sent.
  Status start(const Journal& initial);
  // The next ledger tag's source: every DeliveryLedger entry, in tag order
  // (markers too, with dev = ino = 0). `check` is line_check() of the text;
  // `newline`: the line ended with '\n' (not a partial line sent as is).
  void note(uint64_t dev, uint64_t ino, int64_t line, int64_t from, int64_t to, uint32_t check, bool newline);
  // The ledger settled its front entry.
  void settled() {
    if (!src_.empty()) src_.pop_front();
    ++base_tag_;
  }

  // Producer hooks (ProducerOptions::on_batch, on_released) and its deliveries.
  // on_batch writes at once: the entry is on file before the batch is sent.
  void on_batch(int32_t partition, int32_t first_seq, const std::vector<uint64_t>& tags);
  void on_released(const std::vector<uint64_t>& tags);
  void on_delivery(const client::Delivery& d);

  // After the state `st` was saved: drops the batches whose lines it settles
  // and rewrites the journal, ending with the producer's next sequences.
  Status compact(const FollowState& st, const std::vector<int32_t>& next_sequences);
  // Writes what is buffered (acks); at state saves.
  Status flush();
  // The first write error, if any (hooks cannot return one).
  const Status& error() const { return error_; }

 private:
  struct Src {
    uint64_t dev = 0, ino = 0;
    int64_t line = 0, from = 0, to = 0;
    uint32_t check = 0;
    bool newline = true;
  };
  JournalWriter writer_;
  std::deque<Src> src_;
  uint64_t base_tag_ = 0;  // the tag of src_.front()
  int64_t pid_ = -1;
  int16_t pepoch_ = 0;
  std::map<uint64_t, JournalBatch> live_;  // by tag: batches written and not dropped
  std::string pending_;                    // lines not written yet (acks)
  Status error_;
};

}  // namespace kreek::cli
