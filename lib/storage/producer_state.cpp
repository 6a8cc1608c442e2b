// ProducerState: Kafka's duplicate and gap rules for idempotent producers over
// the last few batches of each producer id, and its snapshot codec.
#include "storage/producer_state.h"

#include <nlohmann/json.hpp>

namespace kreek::storage {

int32_t next_sequence(int32_t seq) { return seq == INT32_MAX ? 0 : seq + 1; }

int32_t last_sequence(int32_t seq, int32_t n) {
  int64_t last = static_cast<int64_t>(seq) + n - 1;
  constexpr int64_t kWrap = static_cast<int64_t>(INT32_MAX) + 1;
  return static_cast<int32_t>(last % kWrap);
}

Result<SequenceCheck> ProducerState::check(int64_t pid, int16_t pepoch, int32_t seq, int32_t n) const {
  SequenceCheck out;
  auto it = producers_.find(pid);
  if (it == producers_.end()) return out;
  const ProducerEntry& e = it->second;
  std::string who = "producer " + std::to_string(pid);
  if (pepoch < e.pepoch)
    return Status(Code::kFencedEpoch, who + " epoch " + std::to_string(pepoch) +
                                          " is older than its current epoch " + std::to_string(e.pepoch));
  if (pepoch > e.pepoch) {
    // A producer that bumped its epoch starts its sequences over (Kafka).
    if (seq == 0) return out;
    return Status(Code::kOutOfOrderSequence, who + " epoch " + std::to_string(pepoch) +
                                                 " must start at sequence 0, not " + std::to_string(seq));
  }
  int32_t last = last_sequence(seq, n);
  for (const ProducerBatch& b : e.batches)
    if (b.first_seq == seq && b.last_seq == last) {
      out.duplicate = true;
      out.base = b.base;
      out.last = b.last;
      return out;
    }
  if (e.batches.empty()) return out;
  int32_t expected = next_sequence(e.batches.back().last_seq);
  if (seq == expected) return out;
  return Status(Code::kOutOfOrderSequence, who + " sent sequence " + std::to_string(seq) + ", expected " +
                                               std::to_string(expected));
}

void ProducerState::update(const BatchHeader& h) {
  if (!h.is_idempotent()) return;
  ProducerEntry& e = producers_[h.pid];
  if (h.pepoch != e.pepoch) {
    e.pepoch = h.pepoch;
    e.batches.clear();
  }
  e.batches.push_back(ProducerBatch{h.seq, last_sequence(h.seq, h.n), h.base, h.last()});
  while (e.batches.size() > kProducerBatchesKept) e.batches.pop_front();
}

const ProducerEntry* ProducerState::find(int64_t pid) const {
  auto it = producers_.find(pid);
  return it == producers_.end() ? nullptr : &it->second;
}

bool ProducerState::operator==(const ProducerState& o) const {
  if (producers_.size() != o.producers_.size()) return false;
  for (auto a = producers_.begin(), b = o.producers_.begin(); a != producers_.end(); ++a, ++b) {
    if (a->first != b->first || a->second.pepoch != b->second.pepoch ||
        a->second.batches.size() != b->second.batches.size())
      return false;
    for (size_t i = 0; i < a->second.batches.size(); ++i) {
      const ProducerBatch& x = a->second.batches[i];
      const ProducerBatch& y = b->second.batches[i];
      if (x.first_seq != y.first_seq || x.last_seq != y.last_seq || x.base != y.base || x.last != y.last)
        return false;
    }
  }
  return true;
}

std::string ProducerState::encode_snapshot(Offset offset) const {
  using json = nlohmann::ordered_json;
  json producers = json::array();
  for (const auto& [pid, e] : producers_) {
    json batches = json::array();
    for (const ProducerBatch& b : e.batches)
      batches.push_back(json::array({b.first_seq, b.last_seq, b.base.value(), b.last.value()}));
    producers.push_back(json{{"pid", pid}, {"pepoch", e.pepoch}, {"batches", std::move(batches)}});
  }
  json j = {{"version", 1}, {"offset", offset.value()}, {"producers", std::move(producers)}};
  return j.dump() + "\n";
}

Result<ProducerState> ProducerState::decode_snapshot(std::string_view text, Offset* offset) {
  using json = nlohmann::json;
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto bad = [](const std::string& why) { return corrupt("producer snapshot: " + why); };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || version->get<int64_t>() != 1)
    return bad("unknown or missing version");
  auto off = j.find("offset");
  auto producers = j.find("producers");
  if (off == j.end() || !off->is_number_integer() || off->get<int64_t>() < 0 || producers == j.end() ||
      !producers->is_array())
    return bad("lacks offset or producers");
  ProducerState out;
  auto int_in = [](const json& v, int64_t lo, int64_t hi, int64_t* x) {
    if (!v.is_number_integer()) return false;
    *x = v.get<int64_t>();
    return *x >= lo && *x <= hi;
  };
  for (const json& p : *producers) {
    int64_t pid = 0, pepoch = 0;
    if (!p.is_object() || !p.contains("pid") || !p.contains("pepoch") || !p.contains("batches") ||
        !int_in(p["pid"], 0, INT64_MAX, &pid) || !int_in(p["pepoch"], 0, INT16_MAX, &pepoch) ||
        !p["batches"].is_array() || p["batches"].size() > kProducerBatchesKept)
      return bad("malformed producer entry");
    ProducerEntry& e = out.producers_[pid];
    e.pepoch = static_cast<int16_t>(pepoch);
    for (const json& b : p["batches"]) {
      int64_t v[4];
      if (!b.is_array() || b.size() != 4 || !int_in(b[0], 0, INT32_MAX, &v[0]) ||
          !int_in(b[1], 0, INT32_MAX, &v[1]) || !int_in(b[2], 0, INT64_MAX, &v[2]) ||
          !int_in(b[3], v[2], INT64_MAX, &v[3]))
        return bad("malformed batch of producer " + std::to_string(pid));
      e.batches.push_back(ProducerBatch{static_cast<int32_t>(v[0]), static_cast<int32_t>(v[1]), Offset(v[2]),
                                        Offset(v[3])});
    }
  }
  *offset = Offset(off->get<int64_t>());
  return out;
}

}  // namespace kreek::storage
