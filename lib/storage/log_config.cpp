// LogConfig: validation of Kafka-named topic config overrides, the key docs,
// and the effective values as strings. One table drives all three.
#include "storage/log_config.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>

namespace kreek::storage {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string in_quotes(std::string_view v) { return "\"" + std::string(v) + "\""; }

Status bad(std::string_view key, std::string what) {
  return invalid_request(std::string(key) + ": " + what);
}

// An integer in [lo, hi]; with `never`, "-1" means kNever (Kafka's "no limit").
Result<int64_t> parse_int(std::string_view key, std::string_view raw, int64_t lo, int64_t hi,
                          bool never = false) {
  std::string_view v = trim(raw);
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || p != v.data() + v.size() || ec == std::errc::invalid_argument)
    return bad(key, in_quotes(raw) + " is not an integer");
  if (ec == std::errc::result_out_of_range) return bad(key, in_quotes(raw) + " is out of range");
  if (never && out == -1) return kNever;
  if (out < lo || out > hi) {
    std::string range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    if (never) range += " or -1";
    return bad(key, in_quotes(raw) + " is not in " + range);
  }
  return out;
}

std::string int_text(int64_t v, bool never) { return never && v == kNever ? "-1" : std::to_string(v); }

std::string double_text(double d) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, p);
}

constexpr int64_t kMaxI64 = std::numeric_limits<int64_t>::max();
constexpr int64_t kMaxI32 = std::numeric_limits<int32_t>::max();

struct Key {
  std::string_view name;
  std::string_view doc;
  std::function<Status(LogConfig&, std::string_view key, std::string_view value)> set;
  std::function<std::string(const LogConfig&)> get;
};

// An int64 field with limits; `never`: -1 stored as kNever, and described as
// -1 when `show_never` (else as the number, Kafka's Long.MAX_VALUE).
Key int_key(std::string_view name, std::string_view doc, int64_t LogConfig::*field, int64_t lo,
            int64_t hi, bool never = false, bool show_never = true) {
  return Key{name, doc,
             [=](LogConfig& c, std::string_view k, std::string_view v) -> Status {
               auto r = parse_int(k, v, lo, hi, never);
               if (!r) return r.status();
               c.*field = *r;
               return Status::ok();
             },
             [=](const LogConfig& c) { return int_text(c.*field, never && show_never); }};
}

const std::vector<Key>& keys() {
  static const std::vector<Key> k = {
      Key{"cleanup.policy", "delete, compact or compact,delete: what happens to old segments",
          [](LogConfig& c, std::string_view key, std::string_view raw) -> Status {
            bool del = false, compact = false;
            std::string_view v = raw;
            bool any = false;
            while (true) {
              size_t comma = v.find(',');
              std::string_view part = trim(v.substr(0, comma));
              if (part == "delete" && !del) {
                del = true;
              } else if (part == "compact" && !compact) {
                compact = true;
              } else {
                return bad(key, in_quotes(raw) + " is not delete, compact or compact,delete");
              }
              any = true;
              if (comma == std::string_view::npos) break;
              v.remove_prefix(comma + 1);
            }
            if (!any) return bad(key, in_quotes(raw) + " is not delete, compact or compact,delete");
            c.cleanup_delete = del;
            c.cleanup_compact = compact;
            return Status::ok();
          },
          [](const LogConfig& c) -> std::string {
            if (c.cleanup_delete && c.cleanup_compact) return "compact,delete";
            return c.cleanup_compact ? "compact" : "delete";
          }},
      int_key("delete.retention.ms", "ms to keep delete tombstones in compacted topics",
              &LogConfig::delete_retention_ms, 0, kMaxI64),
          // -1 (the default) leaves flushing to the OS, as kreek-format(5) says;
      // described as Kafka describes it, Long.MAX_VALUE.
      int_key("flush.messages", "fsync after this many records (1 = every batch, -1 = leave it to the OS)",
              &LogConfig::flush_messages, 1, kMaxI64, true, false),
      int_key("flush.ms", "fsync data no older than this many ms (-1 = leave it to the OS)",
              &LogConfig::flush_ms, 0, kMaxI64, true, false),
      int_key("index.interval.bytes", "bytes of log between offset and time index entries",
              &LogConfig::index_interval_bytes, 0, kMaxI32),
      int_key("max.message.bytes", "largest records array one batch may carry",
              &LogConfig::max_message_bytes, 1, kMaxI32),
      int_key("min.compaction.lag.ms", "ms a record stays uncompacted at least",
              &LogConfig::min_compaction_lag_ms, 0, kMaxI64),
      Key{"min.cleanable.dirty.ratio", "dirty share of the log that triggers compaction (0 to 1)",
          [](LogConfig& c, std::string_view key, std::string_view raw) -> Status {
            // A plain decimal ("0.5", "5e-1"): from_chars takes no hex
            // floats, no leading '+', no locale, unlike strtod.
            std::string_view v = trim(raw);
            double d = NAN;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d, std::chars_format::general);
            if (v.empty() || ec != std::errc() || p != v.data() + v.size() || !std::isfinite(d))
              return bad(key, in_quotes(raw) + " is not a number");
            if (d < 0 || d > 1) return bad(key, in_quotes(raw) + " is not in [0, 1]");
            c.min_cleanable_dirty_ratio = d;
            return Status::ok();
          },
          [](const LogConfig& c) { return double_text(c.min_cleanable_dirty_ratio); }},
      Key{"min.insync.replicas", "in-sync replicas an acks=all produce needs",
          [](LogConfig& c, std::string_view key, std::string_view raw) -> Status {
            auto r = parse_int(key, raw, 1, kMaxI32);
            if (!r) return r.status();
            c.min_insync_replicas = static_cast<int32_t>(*r);
            return Status::ok();
          },
          [](const LogConfig& c) { return std::to_string(c.min_insync_replicas); }},
      int_key("replica.lag.time.max.ms", "ms a follower may lag before it leaves the in-sync replicas",
              &LogConfig::replica_lag_time_max_ms, 1, kMaxI64),
      int_key("retention.bytes", "bytes a partition keeps before deleting old segments (-1 = no limit)",
              &LogConfig::retention_bytes, 0, kMaxI64, true),
      int_key("retention.ms", "ms a closed segment is kept after its newest batch (-1 = forever)",
              &LogConfig::retention_ms, 0, kMaxI64, true),
      // Index entries hold u32 file positions: a segment stays below 2 GiB.
      int_key("segment.bytes", "roll to a new segment file at this size", &LogConfig::segment_bytes,
              1024, kMaxI32),
      Key{"unclean.leader.election.enable",
          "true lets a replica outside the ISR lead when none in it is alive (may lose acknowledged records)",
          [](LogConfig& c, std::string_view key, std::string_view raw) -> Status {
            std::string_view v = trim(raw);
            if (v != "true" && v != "false") return bad(key, in_quotes(raw) + " is not true or false");
            c.unclean_leader_election = v == "true";
            return Status::ok();
          },
          [](const LogConfig& c) { return std::string(c.unclean_leader_election ? "true" : "false"); }},
      int_key("segment.ms", "roll to a new segment once the active one's first batch is this old",
              &LogConfig::segment_ms, 1, kMaxI64),
  };
  return k;
}

const Key* find_key(std::string_view name) {
  for (const Key& k : keys())
    if (k.name == name) return &k;
  return nullptr;
}

}  // namespace

Result<LogConfig> apply_overrides(LogConfig base, const std::map<std::string, std::string>& kv) {
  for (const auto& [key, value] : kv) {
    const Key* k = find_key(key);
    if (k == nullptr) return invalid_request("unknown config key " + in_quotes(key));
    KREEK_RETURN_IF_ERROR(k->set(base, key, value));
  }
  return base;
}

const std::map<std::string_view, std::string_view>& config_key_docs() {
  static const std::map<std::string_view, std::string_view> docs = [] {
    std::map<std::string_view, std::string_view> m;
    for (const Key& k : keys()) m.emplace(k.name, k.doc);
    return m;
  }();
  return docs;
}

std::map<std::string, std::string> describe(const LogConfig& c) {
  std::map<std::string, std::string> out;
  for (const Key& k : keys()) out.emplace(std::string(k.name), k.get(c));
  return out;
}

}  // namespace kreek::storage
