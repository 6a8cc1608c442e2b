// Reads an offsets partition's log into groups; see offsets_loader.h.
#include "broker/offsets_loader.h"

#include "base/log.h"
#include "proto/batch_decoder.h"
#include "storage/partition_log.h"

namespace kreek::broker {

namespace {

// Read this much of the log per read call: batches are whole, so a read may
// return more (one batch at least).
constexpr int64_t kReadBytes = 4 << 20;

void apply(LoadedPartition& out, group::OffsetsTopicRecord&& rec) {
  using Kind = group::OffsetsTopicRecord::Kind;
  LoadedGroup& g = out.groups[rec.group];
  if (rec.kind == Kind::kOffset) {
    if (rec.offset)
      g.offsets[rec.tp] = std::move(*rec.offset);
    else
      g.offsets.erase(rec.tp);
  } else {
    g.record = std::move(rec.record);  // a tombstone: the group was deleted
  }
}

}  // namespace

Result<LoadedPartition> load_offsets_partition(const storage::PartitionLog& log, const std::string& only_group) {
  LoadedPartition out;
  proto::BatchDecoder dec;
  Offset from = log.log_start();
  const Offset end = log.log_end();
  while (from < end) {
    auto r = log.read(from, kReadBytes, end);
    if (!r.is_ok()) return r.status().with_context("load " + std::string(group::kOffsetsTopic));
    for (const storage::FileSlice& slice : r->slices) {
      auto bytes = storage::read_slice(slice);
      if (!bytes.is_ok()) return bytes.status().with_context("load " + std::string(group::kOffsetsTopic));
      std::string_view rest = *bytes, line;
      while (proto::take_line(rest, line)) {
        KREEK_RETURN_IF_ERROR(dec.reset(line));
        while (dec.next()) {
          const proto::Record& rec = dec.record();
          ++out.records;
          if (!rec.key) {
            ++out.skipped;
            continue;
          }
          std::optional<std::string_view> value;
          if (rec.value) value = *rec.value;
          auto decoded = group::decode_record(*rec.key, value);
          if (!decoded.is_ok()) {
            if (out.skipped++ == 0)
              log::warn("load " + std::string(group::kOffsetsTopic) + ": skipping the record at offset " +
                        std::to_string(dec.offset().value()) + ": " + decoded.status().message());
            continue;
          }
          if (!only_group.empty() && decoded->group != only_group) continue;
          apply(out, std::move(*decoded));
        }
        KREEK_RETURN_IF_ERROR(dec.status());
      }
    }
    // A gap left by compaction reads as no bytes and a later `next`.
    if (r->next <= from) break;
    from = r->next;
  }
  // Groups whose every record was deleted are gone.
  for (auto it = out.groups.begin(); it != out.groups.end();)
    it = !it->second.record && it->second.offsets.empty() ? out.groups.erase(it) : std::next(it);
  return out;
}

}  // namespace kreek::broker
