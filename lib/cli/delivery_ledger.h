// DeliveryLedger: kproduce's input records in input order, resolved as their
// batches are acknowledged (in any order across partitions and leaders), and
// settled from the front only. So receipts come out in input order, and a
// followed file's acknowledged position only ever moves past lines that were
// all acknowledged (Filebeat's registry advances the same way).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_map>

#include "base/status.h"
#include "client/producer.h"

namespace kreek::cli {

struct SettledRecord {
  uint32_t source = 0;    // input file (index given by the caller)
  int64_t line = 0;       // line number in that input
  int64_t end_pos = 0;    // byte offset just after the line
  bool marker = false;    // a position change without a record (truncation)
  int32_t partition = -1;
  int64_t offset = -1;    // -1: unknown (acks=0)
  int64_t timestamp = -1; // -1: unknown (the answer to a resent duplicate has none)
  const Status* error = nullptr;  // null if acknowledged
};

class DeliveryLedger {
 public:
  // Registers the next input record; its tag goes to Producer::send.
  uint64_t add(uint32_t source, int64_t line, int64_t end_pos);
  // A position change that carries no record; settles in order with the rest.
  void add_marker(uint32_t source, int64_t line, int64_t end_pos);
  // Producer::on_delivery: marks the batch's records resolved, then calls
  // the listener (if set), which may settle: acks arrive inside send() too,
  // and a caller that settled only between reads would lag by a whole read.
  void on_delivery(const client::Delivery& d);
  void set_listener(std::function<void()> listener) { listener_ = std::move(listener); }
  // Told of every delivery first, as it is (kproduce --follow's journal).
  void set_observer(std::function<void(const client::Delivery&)> observer) { observer_ = std::move(observer); }

  // Hands out, in input order, every record resolved so far that no
  // unresolved one precedes; returns how many.
  template <typename F>
  size_t settle(F&& on_settled) {
    size_t n = 0;
    while (!entries_.empty() && entries_.front().done) {
      Entry& e = entries_.front();
      SettledRecord r{e.source, e.line, e.end_pos, e.marker, e.partition, e.offset, e.timestamp, nullptr};
      Status why;
      if (e.failed) {
        auto it = errors_.find(base_tag_);
        if (it != errors_.end()) why = std::move(it->second), errors_.erase(it);
        if (why.is_ok()) why = Status(Code::kInternal, "not delivered");
        r.error = &why;
      }
      on_settled(static_cast<const SettledRecord&>(r));
      entries_.pop_front();
      ++base_tag_;
      ++n;
    }
    return n;
  }
  // Records registered and not settled yet.
  size_t pending() const { return entries_.size(); }

 private:
  struct Entry {
    uint32_t source = 0;
    bool done = false;
    bool failed = false;
    bool marker = false;
    int32_t partition = -1;
    int64_t line = 0;
    int64_t end_pos = 0;
    int64_t offset = -1;
    int64_t timestamp = -1;
  };
  std::deque<Entry> entries_;
  uint64_t base_tag_ = 0;  // the tag of entries_.front()
  std::unordered_map<uint64_t, Status> errors_;  // failed records' reasons (rare)
  std::function<void()> listener_;
  std::function<void(const client::Delivery&)> observer_;
};

}  // namespace kreek::cli
