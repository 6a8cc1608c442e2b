// InflightJournal: batch entries built from the sources of their records
// (consecutive lines of one file become one run), acks and releases, and the
// compaction at each state save.
#include "cli/inflight_journal.h"

namespace kreek::cli {
namespace {

constexpr int64_t kWrap = static_cast<int64_t>(INT32_MAX) + 1;

}  // namespace

Status InflightJournal::start(const Journal& initial) {
  pid_ = initial.pid;
  pepoch_ = initial.pepoch;
  live_.clear();
  for (const auto& b : initial.batches) live_.emplace(b.tag, b);
  error_ = writer_.rewrite(encode_journal(initial));
  return error_;
}

void InflightJournal::note(uint64_t dev, uint64_t ino, int64_t line, int64_t from, int64_t to, uint32_t check,
                           bool newline) {
  src_.push_back({dev, ino, line, from, to, check, newline});
}

void InflightJournal::on_batch(int32_t partition, int32_t first_seq, const std::vector<uint64_t>& tags) {
  if (tags.empty() || !error_.is_ok()) return;
  JournalBatch b;
  b.tag = tags.front();
  b.partition = partition;
  b.first_seq = first_seq;
  b.count = static_cast<int32_t>(tags.size());
  bool glued = false;  // the last run may take the next line
  for (uint64_t tag : tags) {
    // Invariant: the ledger settles a record only after its batch was made.
    if (tag < base_tag_ || tag - base_tag_ >= src_.size()) {
      error_ = Status(Code::kInternal, "journal: a batch record without a source");
      return;
    }
    const Src& s = src_[tag - base_tag_];
    b.check = chain_check(b.check, s.check);
    if (glued) {
      JournalRun& r = b.runs.back();
      if (r.dev == s.dev && r.ino == s.ino && r.to == s.from && r.line + r.count == s.line) {
        r.to = s.to;
        ++r.count;
        glued = s.newline;
        continue;
      }
    }
    b.runs.push_back({s.dev, s.ino, s.line, s.from, s.to, 1});
    glued = s.newline;
  }
  pending_ += encode_journal_batch(b);
  live_.emplace(b.tag, std::move(b));
  error_ = flush();
}

void InflightJournal::on_released(const std::vector<uint64_t>& tags) {
  if (tags.empty() || !error_.is_ok()) return;
  auto gone = live_.find(tags.front());
  if (gone == live_.end()) return;
  // As the producer did (close_sequence_hole): the partition's later batches
  // take its numbers.
  const int32_t p = gone->second.partition;
  const int64_t n = gone->second.count;
  for (auto it = std::next(gone); it != live_.end(); ++it)
    if (it->second.partition == p)
      it->second.first_seq = static_cast<int32_t>(((it->second.first_seq - n) % kWrap + kWrap) % kWrap);
  live_.erase(gone);
  pending_ += encode_journal_release(tags.front());
  error_ = flush();
}

void InflightJournal::on_delivery(const client::Delivery& d) {
  if (d.tags == nullptr || d.tags->empty() || !d.status.is_ok()) return;
  auto it = live_.find(d.tags->front());
  if (it == live_.end() || it->second.partition != d.partition) return;
  it->second.acked = true;
  it->second.base = d.base_offset;
  it->second.ts = d.timestamp;
  // Written with the next batch or state save: an ack lost with the
  // process only makes a restart resend a batch the broker then recognises.
  pending_ += encode_journal_ack(it->first, d.base_offset, d.timestamp);
}

Status InflightJournal::flush() {
  if (pending_.empty()) return Status::ok();
  Status s = writer_.append(pending_);
  pending_.clear();
  return s;
}

Status InflightJournal::compact(const FollowState& st, const std::vector<int32_t>& next_sequences) {
  if (!error_.is_ok()) return error_;
  Journal j;
  j.pid = pid_;
  j.pepoch = pepoch_;
  for (auto it = live_.begin(); it != live_.end();) {
    bool open = false;
    for (const JournalRun& r : it->second.runs) {
      const FileProgress* f = st.find(r.dev, r.ino);
      if (f != nullptr && r.to > f->pos) open = true;
    }
    if (!open) {
      it = live_.erase(it);
      continue;
    }
    j.batches.push_back(it->second);
    ++it;
  }
  for (size_t p = 0; p < next_sequences.size(); ++p)
    if (next_sequences[p] != 0) j.next.emplace_back(static_cast<int32_t>(p), next_sequences[p]);
  pending_.clear();  // the acks are in the batches now
  error_ = writer_.rewrite(encode_journal(j));
  return error_;
}

}  // namespace kreek::cli
