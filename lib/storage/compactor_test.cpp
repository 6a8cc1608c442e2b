// Log compaction: newest record per key, offsets kept, tombstones and their
// retention, min.compaction.lag.ms, the dirty ratio, gaps on the read path,
// a crash at every step of the swap, and work that overlaps a compaction.
#include "storage/compactor.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "storage/log_manager.h"
#include "storage/partition_log.h"
#include "storage/segment_swap.h"
#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

LogConfig compacted(int64_t segment_bytes = 300) {
  LogConfig c;
  c.segment_bytes = segment_bytes;
  c.index_interval_bytes = 64;
  c.cleanup_compact = true;
  c.cleanup_delete = false;
  return c;
}

std::unique_ptr<PartitionLog> open_log(const std::string& dir, const LogConfig& c, int64_t rp = 0) {
  auto r = PartitionLog::open(dir, c, Offset(rp), nullptr);
  REQUIRE(r);
  return std::move(*r);
}

std::string kv(const std::string& k, std::optional<std::string> v) {
  std::string s = "{\"key\":\"" + k + "\"";
  if (v) s += ",\"value\":\"" + *v + "\"";
  return s + "}";
}

// Appends one batch of records at time ts; returns its base offset.
int64_t put(PartitionLog& log, const std::vector<std::string>& recs, int64_t ts) {
  std::string a = "[";
  for (size_t i = 0; i < recs.size(); ++i) a += (i ? "," : "") + recs[i];
  a += "]";
  auto r = log.append(a, static_cast<int32_t>(recs.size()), crc_of(a), LeaderEpoch(2), TimestampMs(ts));
  REQUIRE(r);
  log.set_high_watermark(log.log_end());  // a single replica: all of it is replicated
  return r->base.value();
}

struct Rec {
  int64_t offset;
  std::string key;  // "" for none
  std::optional<std::string> value;
  bool operator==(const Rec&) const = default;
};

std::vector<Rec> parse_records(std::string_view bytes) {
  std::vector<Rec> out;
  while (!bytes.empty()) {
    auto p = parse_batch(bytes);
    REQUIRE(p);
    auto arr = nlohmann::json::parse(p->records);
    for (size_t i = 0; i < arr.size(); ++i) {
      Rec r{p->header.base.value() + static_cast<int64_t>(i), "", std::nullopt};
      if (arr[i].contains("key") && arr[i]["key"].is_string()) r.key = arr[i]["key"];
      if (arr[i].contains("value") && arr[i]["value"].is_string()) r.value = arr[i]["value"].get<std::string>();
      out.push_back(r);
    }
    bytes.remove_prefix(p->line_bytes);
  }
  return out;
}

// Every record the log holds, through the read path.
std::vector<Rec> dump(const PartitionLog& log) {
  auto r = log.read(log.log_start(), int64_t{1} << 40, log.log_end());
  REQUIRE(r);
  return parse_records(bytes_of(*r));
}

// The newest record per key among those below `end`, plus everything from `end` on.
std::vector<Rec> newest_per_key(const std::vector<Rec>& all, int64_t end) {
  std::map<std::string, int64_t> newest;
  for (const auto& r : all)
    if (r.offset < end) newest[r.key] = r.offset;
  std::vector<Rec> out;
  for (const auto& r : all)
    if (r.offset >= end || newest[r.key] == r.offset) out.push_back(r);
  return out;
}

// 40 batches over 8 keys, 1-3 records each, so batches lose some records and
// keep others; returns the active segment's base offset.
int64_t fill(PartitionLog& log, int batches = 40, int64_t ts = kT0) {
  int n = 0;
  for (int b = 0; b < batches; ++b) {
    std::vector<std::string> recs;
    for (int i = 0; i <= b % 3; ++i, ++n) recs.push_back(kv("k" + std::to_string(n * 5 % 8), "v" + std::to_string(n)));
    put(log, recs, ts + b);
  }
  return 0;
}

bool has_suffix_files(const std::string& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string n = e.path().filename().string();
    if (n.find(".cleaned") != std::string::npos || n.find(".swap") != std::string::npos ||
        n.find(".replaced") != std::string::npos)
      return true;
  }
  return false;
}

}  // namespace

TEST_SUITE("storage compaction") {
  TEST_CASE("compaction keeps the newest record per key in closed segments, at its offset") {
    TempDir t;
    auto log = open_log(t.sub("p"), compacted());
    fill(*log);
    REQUIRE(log->segment_count() > 4);
    auto before = dump(*log);
    auto r = Compactor::compact_now(*log, TimestampMs(kT0 + 1000));
    REQUIRE(r);
    CHECK(r->outcome == CompactionOutcome::kSwapped);
    int64_t clean_end = r->stats.end.value();
    CHECK(clean_end < log->log_end().value());  // the active segment stayed out
    auto after = dump(*log);
    CHECK(after == newest_per_key(before, clean_end));
    CHECK(after.size() < before.size());
    CHECK(r->stats.records_before == clean_end);
    CHECK(r->stats.records_after == static_cast<int64_t>(newest_per_key(before, clean_end).size()) -
                                        static_cast<int64_t>(before.size() - clean_end));
    CHECK(r->stats.bytes_after < r->stats.bytes_before);
    CHECK(log->log_end().value() == static_cast<int64_t>(before.size()));
    CHECK(log->log_start() == Offset(0));
    CHECK_FALSE(has_suffix_files(t.sub("p")));

    // Appends continue at the old log end, and the result survives a reopen
    // both trusted (recovery point at the end) and fully re-verified.
    put(*log, {kv("k1", "late")}, kT0 + 2000);
    auto expect = dump(*log);
    int64_t end = log->log_end().value();
    log.reset();
    for (int64_t rp : {int64_t{0}, end}) {
      auto again = open_log(t.sub("p"), compacted(), rp);
      CHECK(again->log_end().value() == end);
      CHECK(dump(*again) == expect);
    }
  }

  TEST_CASE("a batch that loses a middle record becomes one batch per surviving run") {
    TempDir t;
    LogConfig c = compacted(100000);
    c.segment_ms = 10;
    auto log = open_log(t.sub("p"), c);
    put(*log, {kv("a", "1"), kv("b", "1"), kv("c", "1")}, kT0);
    put(*log, {kv("b", "2")}, kT0 + 1);
    REQUIRE(log->roll_if_due(TimestampMs(kT0 + 100)).is_ok());
    put(*log, {kv("d", "1")}, kT0 + 200);
    REQUIRE(Compactor::compact_now(*log, TimestampMs(kT0 + 300)));
    auto rr = log->read(Offset(0), 1 << 20, log->log_end());
    REQUIRE(rr);
    auto h = headers_of(bytes_of(*rr));  // parse_batch checks every CRC
    REQUIRE(h.size() == 4);
    CHECK(h[0].base == Offset(0));
    CHECK(h[0].n == 1);
    CHECK(h[1].base == Offset(2));
    CHECK(h[1].n == 1);
    CHECK(h[1].ts == TimestampMs(kT0));  // the run keeps its batch's time and epoch
    CHECK(h[1].epoch == LeaderEpoch(2));
    CHECK(h[2].base == Offset(3));
    CHECK(h[2].ts == TimestampMs(kT0 + 1));
    CHECK(h[3].base == Offset(4));
  }

  TEST_CASE("reads from any offset start at the next surviving record (gaps)") {
    TempDir t;
    auto log = open_log(t.sub("p"), compacted());
    fill(*log);
    auto r = Compactor::compact_now(*log, TimestampMs(kT0 + 1000));
    REQUIRE(r);
    auto all = dump(*log);
    for (int64_t o = 0; o < log->log_end().value(); ++o) {
      CAPTURE(o);
      auto rr = log->read(Offset(o), 1, log->log_end());
      REQUIRE(rr);
      auto got = parse_records(bytes_of(*rr));
      REQUIRE_FALSE(got.empty());
      // the first record at or after o that survived
      auto want = std::find_if(all.begin(), all.end(), [&](const Rec& x) { return x.offset >= o; });
      REQUIRE(want != all.end());
      CHECK(std::find(got.begin(), got.end(), *want) != got.end());
      CHECK(rr->next.value() > want->offset);
    }
    // locate() of a removed offset is the next batch; offset_for_time still works.
    CHECK(*log->offset_for_time(TimestampMs(0)) == Offset(all.front().offset));
  }

  TEST_CASE("a read in a gap with nothing after it up to the limit moves next past the gap") {
    TempDir t;
    LogConfig c = compacted(100000);
    c.segment_ms = 10;
    auto log = open_log(t.sub("p"), c);
    put(*log, {kv("a", "1"), kv("b", "1")}, kT0);
    put(*log, {kv("a", "2"), kv("b", "2")}, kT0 + 1);
    REQUIRE(log->roll_if_due(TimestampMs(kT0 + 100)).is_ok());  // close it
    put(*log, {kv("a", "3"), kv("b", "3")}, kT0 + 200);         // active: offsets 4, 5
    auto r = Compactor::compact_now(*log, TimestampMs(kT0 + 300));
    REQUIRE(r);
    // Offsets 0 and 1 are gone; 2, 3 survive (newest below the active segment).
    auto rr = log->read(Offset(0), 1 << 20, Offset(2));
    REQUIRE(rr);
    CHECK(rr->slices.empty());
    CHECK(rr->next == Offset(2));
    rr = log->read(Offset(1), 1 << 20, log->log_end());
    REQUIRE(rr);
    CHECK(parse_records(bytes_of(*rr)).front().offset == 2);
  }

  TEST_CASE("tombstones survive one compaction and go once older than delete.retention.ms") {
    TempDir t;
    LogConfig c = compacted(100000);
    c.segment_ms = 10;
    c.delete_retention_ms = 1000;
    auto log = open_log(t.sub("p"), c);
    put(*log, {kv("a", "1"), kv("b", "1")}, kT0);
    put(*log, {kv("a", std::nullopt)}, kT0 + 1);  // tombstone for a at offset 2
    REQUIRE(log->roll_if_due(TimestampMs(kT0 + 100)).is_ok());
    put(*log, {kv("c", "1")}, kT0 + 200);

    // Long past delete.retention.ms, but never compacted yet: kept.
    auto r = Compactor::compact_now(*log, TimestampMs(kT0 + 5000));
    REQUIRE(r);
    CHECK(r->outcome == CompactionOutcome::kSwapped);
    std::vector<Rec> want = {{1, "b", "1"}, {2, "a", std::nullopt}, {3, "c", "1"}};
    CHECK(dump(*log) == want);
    CHECK(log->cleaner().oldest_tombstone == TimestampMs(kT0 + 1));
    CHECK(Compactor::assess(*log, TimestampMs(kT0 + 5000)).tombstones_due);

    // Second compaction, still young: kept.
    SUBCASE("still young") {
      r = Compactor::compact_now(*log, TimestampMs(kT0 + 500));
      REQUIRE(r);
      CHECK(dump(*log) == want);
      CHECK_FALSE(Compactor::assess(*log, TimestampMs(kT0 + 500)).due);
    }
    SUBCASE("expired") {
      r = Compactor::compact_now(*log, TimestampMs(kT0 + 5000));
      REQUIRE(r);
      CHECK(r->stats.tombstones_removed == 1);
      want.erase(want.begin() + 1);
      CHECK(dump(*log) == want);
      CHECK(log->cleaner().oldest_tombstone == TimestampMs(-1));
    }
  }

  TEST_CASE("min.compaction.lag.ms leaves younger records alone") {
    TempDir t;
    LogConfig c = compacted();
    c.min_compaction_lag_ms = 10'000;
    auto log = open_log(t.sub("p"), c);
    fill(*log, 40, kT0);
    int64_t half = log->log_end().value();
    fill(*log, 40, kT0 + 60'000);  // younger half
    auto before = dump(*log);
    auto r = Compactor::compact_now(*log, TimestampMs(kT0 + 5000));  // everything too young
    REQUIRE(r);
    CHECK(r->outcome == CompactionOutcome::kNothingToDo);
    CHECK(dump(*log) == before);
    CHECK(log->cleaner().not_before_ms == kT0 + 10'000);
    CHECK_FALSE(Compactor::assess(*log, TimestampMs(kT0 + 5000)).due);

    r = Compactor::compact_now(*log, TimestampMs(kT0 + 30'000));  // only the first half is old enough
    REQUIRE(r);
    CHECK(r->outcome == CompactionOutcome::kSwapped);
    int64_t end = r->stats.end.value();
    CHECK(end <= half);  // no younger record was rewritten
    auto after = dump(*log);
    for (const auto& x : before)
      if (x.offset >= end) CHECK(std::find(after.begin(), after.end(), x) != after.end());
  }

  TEST_CASE("a huge min.compaction.lag.ms blocks compaction without overflowing") {
    TempDir t;
    LogConfig c = compacted();
    c.min_compaction_lag_ms = INT64_MAX;  // the topic config's upper bound
    auto log = open_log(t.sub("p"), c);
    fill(*log, 40, kT0);
    fill(*log, 40, kT0 + 60'000);
    auto r = Compactor::compact_now(*log, TimestampMs(kT0 + 120'000));
    REQUIRE(r);
    CHECK(r->outcome == CompactionOutcome::kNothingToDo);
    CHECK(log->cleaner().not_before_ms == INT64_MAX);  // saturated, not wrapped negative
  }

  TEST_CASE("the active segment is never compacted") {
    TempDir t;
    auto log = open_log(t.sub("p"), compacted(1 << 20));  // one segment: the active one
    for (int i = 0; i < 20; ++i) put(*log, {kv("same", std::to_string(i))}, kT0 + i);
    auto before = dump(*log);
    auto r = Compactor::compact_now(*log, TimestampMs(kT0 + 1000));
    REQUIRE(r);
    CHECK(r->outcome == CompactionOutcome::kNothingToDo);
    CHECK(dump(*log) == before);
    CHECK(Compactor::assess(*log, TimestampMs(kT0)).dirty_bytes == 0);
  }

  TEST_CASE("the dirty ratio decides when a log is due") {
    TempDir t;
    auto log = open_log(t.sub("p"), compacted());
    fill(*log);
    Cleanable c = Compactor::assess(*log, TimestampMs(kT0));
    CHECK(c.dirty_ratio == doctest::Approx(1.0));
    CHECK(c.due);
    REQUIRE(Compactor::compact_now(*log, TimestampMs(kT0 + 1000)));
    c = Compactor::assess(*log, TimestampMs(kT0));
    CHECK(c.dirty_bytes == 0);
    CHECK_FALSE(c.due);
    // A little new data: dirty, but under min.cleanable.dirty.ratio 0.5.
    for (int i = 0; i < 4; ++i) put(*log, {kv("k1", "x" + std::to_string(i))}, kT0 + 2000 + i);
    LogConfig lazy = compacted();
    lazy.min_cleanable_dirty_ratio = 0.99;
    log->set_config(lazy);
    c = Compactor::assess(*log, TimestampMs(kT0));
    CHECK(c.dirty_bytes > 0);
    CHECK(c.dirty_ratio < 0.99);
    CHECK_FALSE(c.due);
    LogConfig eager = compacted();
    eager.min_cleanable_dirty_ratio = 0.01;
    log->set_config(eager);
    CHECK(Compactor::assess(*log, TimestampMs(kT0)).due);
    // delete alone: never due, nothing planned.
    log->set_config(LogConfig());
    CHECK_FALSE(Compactor::assess(*log, TimestampMs(kT0)).due);
    CHECK(Compactor::begin(*log, TimestampMs(kT0)) == nullptr);
  }

  TEST_CASE("compact,delete compacts and applies retention") {
    TempDir t;
    LogConfig c = compacted();
    c.cleanup_delete = true;
    c.retention_ms = 60'000;
    auto log = open_log(t.sub("p"), c);
    fill(*log, 40, kT0);
    fill(*log, 40, kT0 + 100'000);
    auto r = Compactor::compact_now(*log, TimestampMs(kT0 + 100'100));
    REQUIRE(r);
    CHECK(r->outcome == CompactionOutcome::kSwapped);
    auto deleted = log->enforce_retention(TimestampMs(kT0 + 100'100));
    REQUIRE(deleted);
    CHECK(*deleted >= 1);
    CHECK(log->log_start() > Offset(0));
  }

  TEST_CASE("records without a key are removed by compaction") {
    TempDir t;
    LogConfig c = compacted(100000);
    c.segment_ms = 10;
    auto log = open_log(t.sub("p"), c);
    put(*log, {"{\"value\":\"nokey\"}", kv("a", "1")}, kT0);
    REQUIRE(log->roll_if_due(TimestampMs(kT0 + 100)).is_ok());
    put(*log, {kv("b", "1")}, kT0 + 200);
    auto r = Compactor::compact_now(*log, TimestampMs(kT0 + 300));
    REQUIRE(r);
    CHECK(r->stats.keyless_removed == 1);
    std::vector<Rec> want = {{1, "a", "1"}, {2, "b", "1"}};
    CHECK(dump(*log) == want);
  }

  TEST_CASE("a crash at every step of the swap recovers to the old or the new log") {
    // Build the same log in a fresh directory for every step count.
    auto build = [](const std::string& dir) {
      auto log = open_log(dir, compacted(4000));
      LogConfig rolling = compacted(4000);
      rolling.segment_ms = 1;
      for (int seg = 0; seg < 4; ++seg) {
        for (int b = 0; b < 5; ++b)
          put(*log, {kv("k" + std::to_string(b % 3), "s" + std::to_string(seg) + "b" + std::to_string(b))},
              kT0 + seg * 100 + b);
        log->set_config(rolling);
        REQUIRE(log->roll_if_due(TimestampMs(kT0 + seg * 100 + 50)).is_ok());
        log->set_config(compacted(4000));
      }
      put(*log, {kv("tail", "t")}, kT0 + 1000);
      return log;
    };
    TempDir ref;
    auto whole = build(ref.sub("p"));
    auto before = dump(*whole);
    REQUIRE(whole->segment_count() == 5);
    REQUIRE(Compactor::compact_now(*whole, TimestampMs(kT0 + 2000)));
    auto after = dump(*whole);
    REQUIRE(after != before);
    REQUIRE(whole->segment_count() == 2);  // four closed segments merged into one
    int steps = swap_step_count(SegmentSwap{"", {Offset(0), Offset(5), Offset(10), Offset(15)}});
    int commit = 4 * 2 + 3 + 1;  // index unlinks, .replaced renames, then the commit rename
    for (int k = 0; k <= steps; ++k) {
      CAPTURE(k);
      TempDir t;
      auto log = build(t.sub("p"));
      CompactionOptions o;
      o.simulate_crash_after_swap_steps = k;
      auto r = Compactor::compact_now(*log, TimestampMs(kT0 + 2000), o);
      CHECK_FALSE(r.is_ok());
      log.reset();  // the "crash"
      for (int64_t rp : {int64_t{0}, int64_t{21}}) {
        auto again = open_log(t.sub("p"), compacted(4000), rp);
        CHECK_FALSE(has_suffix_files(t.sub("p")));
        CHECK(dump(*again) == (k >= commit ? after : before));
        CHECK(again->log_end() == Offset(21));
      }
    }
  }

  TEST_CASE("appends and reads continue while a compaction runs on another thread") {
    TempDir t;
    auto log = open_log(t.sub("p"), compacted());
    fill(*log, 200);
    auto plan = Compactor::begin(*log, TimestampMs(kT0 + 5000));
    REQUIRE(plan);
    // A fetch in flight holds slices of segments about to be replaced.
    auto held = log->read(Offset(0), 1 << 20, log->log_end());
    REQUIRE(held);
    std::string held_bytes = bytes_of(*held);
    std::thread worker([&] { CHECK(plan->run().is_ok()); });
    for (int i = 0; i < 50; ++i) {
      put(*log, {kv("new" + std::to_string(i % 4), std::to_string(i))}, kT0 + 6000 + i);
      auto rr = log->read(Offset(i), 4096, log->log_end());
      CHECK(rr);
    }
    worker.join();
    auto before = dump(*log);
    auto r = Compactor::end(log.get(), *plan);
    REQUIRE(r);
    CHECK(r->outcome == CompactionOutcome::kSwapped);
    CHECK(dump(*log) == newest_per_key(before, r->stats.end.value()));
    CHECK(bytes_of(*held) == held_bytes);  // replaced segments stay readable
    // Records appended during the run are past the planned range: still dirty.
    CHECK(log->cleaner().cleaned_to == r->stats.end);
    CHECK(Compactor::assess(*log, TimestampMs(kT0)).dirty_bytes > 0);
  }

  TEST_CASE("a compaction is abandoned if the log was truncated, cut by retention, cancelled or deleted") {
    TempDir t;
    LogConfig c = compacted();
    c.cleanup_delete = true;
    c.retention_ms = 1000;
    auto log = open_log(t.sub("p"), c);
    fill(*log);
    auto plan = Compactor::begin(*log, TimestampMs(kT0 + 100));
    REQUIRE(plan);
    REQUIRE(plan->run().is_ok());
    std::string why;
    SUBCASE("truncated") {
      REQUIRE(log->truncate_to(Offset(10)).is_ok());
      why = "truncated";
    }
    SUBCASE("retention") {
      auto d = log->enforce_retention(TimestampMs(kT0 + 100'000));
      REQUIRE(d);
      REQUIRE(*d > 0);
      why = "retention";
    }
    SUBCASE("cancelled") {
      plan->cancel();  // shutdown or topic deletion while it ran
      why = "cancelled";
    }
    SUBCASE("deleted") {
      auto r = Compactor::end(nullptr, *plan);
      REQUIRE(r);
      CHECK(r->outcome == CompactionOutcome::kAbandoned);
      CHECK_FALSE(has_suffix_files(t.sub("p")));
      return;
    }
    auto before = dump(*log);
    auto r = Compactor::end(log.get(), *plan);
    REQUIRE(r);
    CHECK(r->outcome == CompactionOutcome::kAbandoned);
    CHECK(r->why.find(why) != std::string::npos);
    CHECK(dump(*log) == before);
    CHECK_FALSE(has_suffix_files(t.sub("p")));
  }

  TEST_CASE("the cleaner's position survives a restart through cleaner-offset-checkpoint") {
    TempDir t;
    int64_t cleaned = 0;
    {
      auto m = LogManager::open(t.path(), LogConfig(), nullptr);
      REQUIRE(m);
      REQUIRE((*m)->create_topic("users", 1, {{"cleanup.policy", "compact"}, {"segment.bytes", "1024"}}));
      PartitionLog* log = (*m)->log("users", PartitionId(0));
      REQUIRE(log);
      fill(*log);
      put(*log, {kv("k0", std::nullopt)}, kT0 + 100);
      auto r = Compactor::compact_now(*log, TimestampMs(kT0 + 1000));
      REQUIRE(r);
      cleaned = log->cleaner().cleaned_to.value();
      REQUIRE(cleaned > 0);
      REQUIRE((*m)->write_cleaner_checkpoint((*m)->cleaner_checkpoint_contents()).is_ok());
    }
    auto m = LogManager::open(t.path(), LogConfig(), nullptr);
    REQUIRE(m);
    PartitionLog* log = (*m)->log("users", PartitionId(0));
    CHECK(log->cleaner().cleaned_to.value() == cleaned);
    CHECK(Compactor::assess(*log, TimestampMs(kT0)).dirty_bytes == 0);
  }
}
