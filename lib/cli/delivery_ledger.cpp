// DeliveryLedger: tags are consecutive, so a record's entry is found by
// subtracting the front's tag; no search, no map on the hot path.
#include "cli/delivery_ledger.h"

namespace kreek::cli {

uint64_t DeliveryLedger::add(uint32_t source, int64_t line, int64_t end_pos) {
  Entry e;
  e.source = source;
  e.line = line;
  e.end_pos = end_pos;
  entries_.push_back(e);
  return base_tag_ + entries_.size() - 1;
}

void DeliveryLedger::add_marker(uint32_t source, int64_t line, int64_t end_pos) {
  Entry e;
  e.source = source;
  e.line = line;
  e.end_pos = end_pos;
  e.marker = true;
  e.done = true;
  entries_.push_back(e);
}

void DeliveryLedger::on_delivery(const client::Delivery& d) {
  if (observer_) observer_(d);
  if (d.tags == nullptr) return;
  for (size_t i = 0; i < d.tags->size(); ++i) {
    uint64_t tag = (*d.tags)[i];
    // Invariant: every tag came from add() and resolves once; anything else
    // is ignored rather than trusted.
    if (tag < base_tag_ || tag - base_tag_ >= entries_.size()) continue;
    Entry& e = entries_[tag - base_tag_];
    if (e.done) continue;
    e.done = true;
    e.partition = d.partition;
    if (d.status.is_ok()) {
      e.offset = d.base_offset >= 0 ? d.base_offset + static_cast<int64_t>(i) : -1;
      e.timestamp = d.timestamp;
    } else {
      e.failed = true;
      errors_[tag] = d.status;
    }
  }
  if (listener_) listener_();
}

}  // namespace kreek::cli
