// Key-based and round-robin partition choice for produce; see partition_choice.h.
#include "broker/partition_choice.h"

#include <optional>
#include <string_view>

#include "proto/partitioner.h"
#include "proto/record.h"

namespace kreek::broker {

namespace {

// A record's key as written: which field, and its raw token text (for the
// cheap "same bytes as the first record" check before decoding anything).
struct RawKey {
  enum Kind { kNone, kText, kBase64 } kind = kNone;
  uint32_t token = 0;
  std::string_view raw;
};

RawKey raw_key(const proto::JsonScan& scan, uint32_t rec) {
  RawKey k;
  int64_t i = scan.find(rec, "key");
  if (i >= 0 && scan.at(static_cast<uint32_t>(i)).type == proto::TokType::kString) {
    k.kind = RawKey::kText;
  } else {
    i = scan.find(rec, "key64");
    if (i >= 0 && scan.at(static_cast<uint32_t>(i)).type == proto::TokType::kString)
      k.kind = RawKey::kBase64;
  }
  if (k.kind != RawKey::kNone) {
    k.token = static_cast<uint32_t>(i);
    k.raw = scan.raw(k.token);
  }
  return k;
}

std::optional<std::string> decode(const proto::JsonScan& scan, const RawKey& k) {
  std::string text = scan.get_string(k.token);
  if (k.kind == RawKey::kText) return text;
  return proto::base64_decode(text);
}

}  // namespace

Result<BatchKey> batch_key(const proto::JsonScan& scan, uint32_t arr) {
  const proto::Token& a = scan.at(arr);
  if (a.type != proto::TokType::kArray || a.size == 0) return BatchKey{};
  uint32_t rec = arr + 1;
  RawKey first = raw_key(scan, rec);
  BatchKey out;
  if (first.kind != RawKey::kNone) {
    auto d = decode(scan, first);
    if (!d) return invalid_request("record 0: \"key64\" is not valid base64");
    out.keyed = true;
    out.key = std::move(*d);
  }
  for (uint32_t idx = 1; idx < a.size; ++idx) {
    rec = scan.at(rec).next;
    RawKey k = raw_key(scan, rec);
    if ((k.kind == RawKey::kNone) != !out.keyed)
      return invalid_request("records mix keyed and keyless records (record " + std::to_string(idx) +
                             "); give \"partition\" or send them in separate batches");
    if (k.kind == RawKey::kNone || (k.kind == first.kind && k.raw == first.raw)) continue;
    auto d = decode(scan, k);
    if (!d || *d != out.key)
      return invalid_request("records have different keys (record " + std::to_string(idx) +
                             "); give \"partition\" or send one key per batch");
  }
  return out;
}

Status require_keys(const proto::JsonScan& scan, uint32_t arr, const std::string& topic) {
  const proto::Token& a = scan.at(arr);
  uint32_t rec = arr + 1;
  for (uint32_t idx = 0; idx < a.size; ++idx, rec = scan.at(rec).next) {
    if (raw_key(scan, rec).kind == RawKey::kNone)
      return Status(Code::kInvalidRecord, "compacted topic \"" + topic +
                                              "\" cannot accept a record without a key (records[" +
                                              std::to_string(idx) + "])");
  }
  return Status::ok();
}

int32_t choose_partition(const BatchKey& key, int32_t partitions, uint32_t& round_robin) {
  if (partitions <= 0) return 0;
  if (key.keyed) return proto::partition_for_key(key.key, partitions);
  return static_cast<int32_t>(round_robin++ % static_cast<uint32_t>(partitions));
}

}  // namespace kreek::broker
