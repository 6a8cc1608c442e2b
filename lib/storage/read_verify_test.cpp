// Verification on first read: damage below the recovery point (a flipped
// byte, a zeroed page, a shortened file) is never served. Reads stop before
// it, a read at it gets CORRUPT_RECORD naming the offset and file, and bytes
// once checked are not read again.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "storage/partition_log.h"
#include "storage/segment.h"
#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

namespace {

namespace fs = std::filesystem;

std::unique_ptr<PartitionLog> open_at(const std::string& dir, int64_t rp) {
  auto r = PartitionLog::open(dir, small_segments(4096, 512), Offset(rp), nullptr);
  REQUIRE(r);
  return std::move(*r);
}

// A log of 120 batches over several segments, flushed and closed cleanly:
// everything is below the recovery point, so start-up checks none of it.
struct CleanLog {
  TempDir t;
  std::string dir = t.sub("p");
  Offset end;
  std::vector<std::string> files;

  CleanLog() {
    auto log = open_at(dir, 0);
    for (int i = 0; i < 120; ++i)
      REQUIRE(append_records(*log, records_of(1 + i % 3, 20 + i % 40, "r" + std::to_string(i) + "-"),
                             1 + i % 3, 1000 + i));
    REQUIRE(log->flush());
    end = log->log_end();
    files = log_files(dir);
    REQUIRE(files.size() >= 4);
  }
  std::unique_ptr<PartitionLog> open() { return open_at(dir, end.value()); }
};

struct Served {
  std::vector<BatchHeader> batches;
  Status stopped;  // what ended the walk (ok at the log end)
};

// Reads the way a consumer does: from `from`, `step` bytes at a time, until an
// error or the end.
Served walk(PartitionLog& log, Offset from, int64_t step) {
  Served out;
  Offset at = from;
  for (int guard = 0; guard < 10000 && at < log.log_end(); ++guard) {
    auto r = log.read(at, step, Offset(INT64_MAX));
    if (!r) {
      out.stopped = r.status();
      break;
    }
    if (r->bytes == 0) break;
    for (const auto& h : headers_of(bytes_of(*r))) out.batches.push_back(h);
    // Whatever was handed out parses whole, with a good CRC.
    CHECK(headers_of(bytes_of(*r)).size() > 0);
    at = r->next;
  }
  return out;
}

// The batch lines of a file with their positions.
struct Line {
  int64_t pos;
  int64_t len;
  BatchHeader h;
};
std::vector<Line> lines_of(const std::string& bytes) {
  std::vector<Line> out;
  std::string_view rest(bytes);
  int64_t pos = 0;
  while (!rest.empty()) {
    auto p = parse_batch(rest);
    REQUIRE(p);
    out.push_back(Line{pos, static_cast<int64_t>(p->line_bytes), p->header});
    pos += static_cast<int64_t>(p->line_bytes);
    rest.remove_prefix(p->line_bytes);
  }
  return out;
}

// Served batches run without gaps from `from` to `to`.
void check_chain(const Served& s, Offset from, Offset to) {
  Offset expect = from;
  for (const auto& h : s.batches) {
    CHECK(h.base == expect);
    expect = h.next();
  }
  CHECK(expect == to);
}

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("damage below the recovery point is never served: reads stop before it and fail at it") {
    CleanLog c;
    const std::string victim = c.files[2];  // a middle segment
    std::string bytes = slurp(victim);
    std::vector<Line> lines = lines_of(bytes);
    REQUIRE(lines.size() >= 4);
    const Line& bad = lines[lines.size() / 2];
    std::string name = fs::path(victim).filename().string();
    std::string offset_text = "offset " + std::to_string(bad.h.base.value());

    SUBCASE("a flipped byte in the records") { bytes[bad.pos + bad.len - 8] ^= 0x20; }
    SUBCASE("a flipped byte in the prefix") { bytes[bad.pos + 3] ^= 0x01; }
    SUBCASE("a zeroed page") {
      for (int64_t i = bad.pos + 10; i < std::min<int64_t>(bad.pos + 10 + 4096, bytes.size()); ++i)
        bytes[i] = '\0';
    }
    SUBCASE("the file cut inside a batch line") { bytes.resize(bad.pos + bad.len / 2); }
    SUBCASE("the file cut at a batch boundary: the offsets up to the next segment are missing") {
      bytes.resize(bad.pos);
    }
    spit(victim, bytes);

    for (int64_t step : {int64_t{1}, int64_t{700}, int64_t{1} << 20}) {
      CAPTURE(step);
      auto log = c.open();
      CHECK(log->log_end() == c.end);  // start-up did not look
      Served s = walk(*log, Offset(0), step);
      check_chain(s, Offset(0), bad.h.base);
      REQUIRE(!s.stopped.is_ok());
      CHECK(s.stopped.code() == Code::kCorrupt);
      CHECK(s.stopped.message().find(name) != std::string::npos);
      CHECK(s.stopped.message().find(offset_text) != std::string::npos);
      // Every offset from the damage to the segment's end is refused, again and again.
      for (Offset o = bad.h.base; o < lines.back().h.next(); o = o + 1) {
        auto r = log->read(o, 1 << 20, Offset(INT64_MAX));
        REQUIRE(!r.is_ok());
        CHECK(r.status().code() == Code::kCorrupt);
      }
      // The next segment is another file, checked on its own, and is served.
      Offset next_base = lines.back().h.next();
      Served after = walk(*log, next_base, 1 << 20);
      CHECK(after.stopped.is_ok());
      check_chain(after, next_base, c.end);
    }
  }

  TEST_CASE("damage in the first batch of a segment is refused at the segment's base") {
    CleanLog c;
    std::string bytes = slurp(c.files[1]);
    Offset base = lines_of(bytes)[0].h.base;
    bytes[5] = 'x';
    spit(c.files[1], bytes);
    auto log = c.open();
    Served s = walk(*log, Offset(0), 1 << 20);
    check_chain(s, Offset(0), base);
    CHECK(s.stopped.code() == Code::kCorrupt);
  }

  TEST_CASE("a read that starts past damage in the same segment is refused even when never read over") {
    CleanLog c;
    std::string bytes = slurp(c.files[0]);
    std::vector<Line> lines = lines_of(bytes);
    bytes[lines[1].pos + lines[1].len - 5] ^= 0x04;
    spit(c.files[0], bytes);
    auto log = c.open();
    // A read of a later batch first: it is good on its own and is served...
    auto late = log->read(lines[3].h.base, 1, Offset(INT64_MAX));
    REQUIRE(late);
    CHECK(headers_of(bytes_of(*late))[0].base == lines[3].h.base);
    // ...then a read from the start meets the damage and stops before it,
    auto r = log->read(Offset(0), 1 << 20, Offset(INT64_MAX));
    REQUIRE(r);
    CHECK(r->next == lines[1].h.base);
    // and from then on the rest of the segment is refused.
    auto again = log->read(lines[3].h.base, 1, Offset(INT64_MAX));
    CHECK(again.status().code() == Code::kCorrupt);
  }

  TEST_CASE("bytes are checked once: verified ranges only grow and later reads do not reread them") {
    CleanLog c;
    std::string bytes = slurp(c.files[0]);
    std::vector<Line> lines = lines_of(bytes);
    auto log = c.open();
    auto r1 = log->read(Offset(0), 1 << 20, lines.back().h.next());
    REQUIRE(r1);
    REQUIRE(r1->slices.size() == 1);
    Segment& seg = *r1->slices[0].owner;
    CHECK(seg.verified_bytes() == static_cast<int64_t>(bytes.size()));
    // Damage after the check is not seen: the bytes are not read again, and
    // the second read is as zero-copy as the first. (Damage that appears while
    // the broker runs is found at the next start-up's first read.)
    std::string damaged = bytes;
    damaged[lines[2].pos + lines[2].len - 6] ^= 0x10;
    spit(c.files[0], damaged);
    auto r2 = log->read(Offset(0), 1 << 20, lines.back().h.next());
    REQUIRE(r2);
    CHECK(r2->next == lines.back().h.next());
    CHECK(seg.verified_bytes() == static_cast<int64_t>(bytes.size()));
  }

  TEST_CASE("interleaved readers check disjoint parts and the parts join into one range") {
    CleanLog c;
    std::string bytes = slurp(c.files[1]);
    std::vector<Line> lines = lines_of(bytes);
    REQUIRE(lines.size() >= 6);
    auto log = c.open();
    Offset a = lines[0].h.base, b = lines[lines.size() / 2].h.base;
    const Offset seg_end = lines.back().h.next();
    std::shared_ptr<Segment> seg;
    int64_t last_verified = 0;
    // Reader a from the segment start, reader b from its middle, in turns,
    // one batch at a time, until both reach the segment end.
    while (a < seg_end || b < seg_end) {
      for (Offset* at : {&a, &b}) {
        if (*at >= seg_end) continue;
        auto r = log->read(*at, 1, seg_end);
        REQUIRE(r);
        REQUIRE(r->slices.size() == 1);
        auto hs = headers_of(bytes_of(*r));
        REQUIRE(hs.size() == 1);
        CHECK(hs[0].base == *at);
        *at = r->next;
        seg = r->slices[0].owner;
        CHECK(seg->verified_bytes() >= last_verified);  // only ever grows
        last_verified = seg->verified_bytes();
      }
    }
    CHECK(seg->verified_bytes() == static_cast<int64_t>(bytes.size()));
    CHECK(!seg->damage());
  }

  TEST_CASE("appended batches count as checked without being read back") {
    TempDir t;
    auto log = open_at(t.sub("p"), 0);
    for (int i = 0; i < 10; ++i) REQUIRE(append_records(*log, records_of(2), 2));
    auto r = log->read(Offset(0), 1 << 20, Offset(INT64_MAX));
    REQUIRE(r);
    CHECK(r->slices[0].owner->verified_bytes() == r->bytes);
  }

  TEST_CASE("a segment joins checked ranges only where their offsets follow") {
    // Two lines written for offsets 0 and 5 where the second should start at 3:
    // each has a good CRC, but together they skip offsets.
    auto line = [](int64_t base, int n) {
      std::string records = records_of(n);
      return encode_batch_prefix(stamped_header(records, base, n, 0, 1)) + records + "}\n";
    };
    auto log = std::make_shared<std::string>(line(0, 3) + line(5, 2));
    auto seg = Segment::over_files(Offset(0), Offset(7), make_mem_file(log),
                                   make_mem_file(std::make_shared<std::string>()),
                                   make_mem_file(std::make_shared<std::string>()), 4096);
    int64_t first_len = static_cast<int64_t>(line(0, 3).size());
    // The second line alone is fine...
    auto second = seg->verify(first_len, Offset(5), static_cast<int64_t>(log->size()));
    REQUIRE(second);
    CHECK(!second->damaged);
    // ...but it does not follow the first.
    auto both = seg->verify(0, Offset(0), static_cast<int64_t>(log->size()));
    REQUIRE(both);
    CHECK(both->damaged);
    CHECK(both->end_pos == first_len);
    REQUIRE(seg->damage());
    CHECK(seg->damage()->offset == Offset(3));
  }
}
