// Batch line format: the leveldb set (empty, round trip, flipped byte,
// truncated tail, bad prefix, unknown version) plus the streaming scanner.
#include "storage/batch_format.h"

#include <doctest/doctest.h>

#include "storage/batch_scanner.h"
#include "storage/storage_test_util.h"

using namespace kreek;
using namespace kreek::storage;
using namespace kreek::storage::testing;

namespace {

std::string line_of(const BatchHeader& h, const std::string& records) {
  return encode_batch_prefix(h) + records + "}\n";
}

BatchHeader header_for(const std::string& records, int64_t base = 100, int32_t n = 3) {
  return stamped_header(records, base, n, 2, 1700000000000);
}

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("a batch line round-trips through encode and parse") {
    std::string records = records_of(3);
    BatchHeader h = header_for(records);
    std::string line = line_of(h, records);
    CHECK(line.rfind("{\"v\":1,\"base\":100,\"n\":3,\"epoch\":2,\"ts\":1700000000000,\"crc\":", 0) == 0);
    std::string two = line + line;  // more lines may follow
    auto p = parse_batch(two);
    REQUIRE(p);
    CHECK(p->header.base == Offset(100));
    CHECK(p->header.n == 3);
    CHECK(p->header.epoch == LeaderEpoch(2));
    CHECK(p->header.ts == TimestampMs(1700000000000));
    CHECK(p->header.crc == h.crc);
    CHECK(h.crc == crc32c::extend(crc_of(records), line.data(), line.find("\"crc\"")));
    CHECK(p->records == records);
    CHECK(p->line_bytes == line.size());
    CHECK(p->header.last() == Offset(102));
    CHECK(p->header.next() == Offset(103));
  }

  TEST_CASE("the longest prefix fits kMaxBatchPrefixBytes") {
    BatchHeader h;
    h.base = Offset(INT64_MAX - INT32_MAX);
    h.n = INT32_MAX;
    h.epoch = LeaderEpoch(INT32_MAX);
    h.ts = TimestampMs(INT64_MAX);
    h.crc = UINT32_MAX;
    h.pid = INT64_MAX;
    h.pepoch = INT16_MAX;
    h.seq = INT32_MAX;
    std::string prefix = encode_batch_prefix(h);
    CHECK(prefix.size() <= kMaxBatchPrefixBytes);
    auto p = parse_batch_prefix(prefix);
    REQUIRE(p);
    CHECK(p->header.ts == h.ts);
  }

  TEST_CASE("empty input is no complete line") {
    CHECK(parse_batch("").status().code() == Code::kNotFound);
  }

  TEST_CASE("every flipped byte of a batch line is detected") {
    std::string records = records_of(2);
    std::string line = line_of(header_for(records, 100, 2), records);
    for (size_t i = 0; i + 1 < line.size(); ++i) {
      std::string bad = line;
      bad[i] ^= 0x01;
      auto p = parse_batch(bad);
      // The crc covers the head too, so even base 100 -> 101 is caught.
      CAPTURE(i);
      REQUIRE_FALSE(p);
      CHECK(p.status().code() == Code::kCorrupt);
    }
  }

  TEST_CASE("a flipped byte in the records fails the crc") {
    std::string records = records_of(2);
    std::string line = line_of(header_for(records, 100, 2), records);
    std::string bad = line;
    bad[line.size() - 6] = 'Y';
    auto p = parse_batch(bad);
    REQUIRE_FALSE(p);
    CHECK(p.status().code() == Code::kCorrupt);
    CHECK(p.status().message().find("crc") != std::string::npos);
  }

  TEST_CASE("a truncated tail is not found rather than corrupt") {
    std::string records = records_of(2);
    std::string line = line_of(header_for(records, 100, 2), records);
    for (size_t len = 0; len < line.size(); ++len) {
      auto p = parse_batch(std::string_view(line).substr(0, len));
      REQUIRE_FALSE(p);
      CHECK(p.status().code() == Code::kNotFound);
    }
  }

  TEST_CASE("malformed prefixes are corrupt") {
    std::string records = records_of(1);
    uint32_t crc = crc_of(records);
    std::string c = std::to_string(crc);
    auto code_of = [](const std::string& line) { return parse_batch(line).status().code(); };
    SUBCASE("keys out of order") {
      CHECK(code_of("{\"base\":1,\"v\":1,\"n\":1,\"epoch\":0,\"ts\":1,\"crc\":" + c + ",\"records\":" + records + "}\n") == Code::kCorrupt);
    }
    SUBCASE("a leading zero") {
      CHECK(code_of("{\"v\":1,\"base\":01,\"n\":1,\"epoch\":0,\"ts\":1,\"crc\":" + c + ",\"records\":" + records + "}\n") == Code::kCorrupt);
    }
    SUBCASE("a negative base") {
      CHECK(code_of("{\"v\":1,\"base\":-1,\"n\":1,\"epoch\":0,\"ts\":1,\"crc\":" + c + ",\"records\":" + records + "}\n") == Code::kCorrupt);
    }
    SUBCASE("zero records") {
      CHECK(code_of("{\"v\":1,\"base\":1,\"n\":0,\"epoch\":0,\"ts\":1,\"crc\":" + c + ",\"records\":" + records + "}\n") == Code::kCorrupt);
    }
    SUBCASE("missing closing brace") {
      CHECK(code_of("{\"v\":1,\"base\":1,\"n\":1,\"epoch\":0,\"ts\":1,\"crc\":" + c + ",\"records\":" + records + "\n") == Code::kCorrupt);
    }
    SUBCASE("records not an array") {
      CHECK(code_of("{\"v\":1,\"base\":1,\"n\":1,\"epoch\":0,\"ts\":1,\"crc\":0,\"records\":{}}\n") == Code::kCorrupt);
    }
    SUBCASE("crc out of range") {
      CHECK(code_of("{\"v\":1,\"base\":1,\"n\":1,\"epoch\":0,\"ts\":1,\"crc\":4294967296,\"records\":[]}\n") == Code::kCorrupt);
    }
    SUBCASE("a line that is not a batch") {
      CHECK(code_of("hello\n") == Code::kCorrupt);
      CHECK(code_of("\n") == Code::kCorrupt);
    }
  }

  TEST_CASE("an unknown format version is corrupt and says so") {
    std::string records = records_of(1);
    std::string line = line_of(header_for(records, 1, 1), records);
    line.replace(line.find("\"v\":1"), 5, "\"v\":3");
    auto p = parse_batch(line);
    REQUIRE_FALSE(p);
    CHECK(p.status().code() == Code::kCorrupt);
    CHECK(p.status().message().find("version 3") != std::string::npos);
  }

  TEST_CASE("a batch with a producer id is version 2 and round-trips its producer fields") {
    std::string records = records_of(3);
    BatchHeader h;
    h.base = Offset(100);
    h.n = 3;
    h.epoch = LeaderEpoch(2);
    h.ts = TimestampMs(1700000000000);
    h.pid = 7;
    h.pepoch = 1;
    h.seq = 42;
    h.crc = batch_crc(crc_of(records), encode_batch_head(h));
    std::string line = line_of(h, records);
    CHECK(line.rfind("{\"v\":2,\"base\":100,\"n\":3,\"epoch\":2,\"ts\":1700000000000,"
                     "\"pid\":7,\"pepoch\":1,\"seq\":42,\"crc\":", 0) == 0);
    // The CRC covers the producer fields too: it runs up to the "crc" key.
    CHECK(h.crc == crc32c::extend(crc_of(records), line.data(), line.find("\"crc\"")));
    std::string two = line + line;  // parse_batch's views point into it
    auto p = parse_batch(two);
    REQUIRE(p);
    CHECK(p->header.pid == 7);
    CHECK(p->header.pepoch == 1);
    CHECK(p->header.seq == 42);
    CHECK(p->header.version() == 2);
    CHECK(p->records == records);
    CHECK(p->line_bytes == line.size());
    auto prefix = parse_batch_prefix(line);
    REQUIRE(prefix);
    CHECK(prefix->header.seq == 42);
    CHECK(prefix->head_bytes == line.find("\"crc\""));

    SUBCASE("every flipped byte of a v2 line is detected") {
      for (size_t i = 0; i + 1 < line.size(); ++i) {
        std::string bad = line;
        bad[i] ^= 0x01;
        CAPTURE(i);
        CHECK_FALSE(parse_batch(bad));
      }
    }
    SUBCASE("a v1 line with producer fields, or a v2 line without them, is corrupt") {
      std::string as_v1 = line;
      as_v1.replace(0, 6, "{\"v\":1");
      CHECK(parse_batch(as_v1).status().code() == Code::kCorrupt);
      std::string plain = line_of(header_for(records), records);
      plain.replace(0, 6, "{\"v\":2");
      CHECK(parse_batch(plain).status().code() == Code::kCorrupt);
    }
    SUBCASE("a prefix cut inside the producer fields is incomplete, not corrupt") {
      for (size_t cut = 1; cut < prefix->prefix_bytes; ++cut) {
        CAPTURE(cut);
        CHECK(parse_batch_prefix(std::string_view(line).substr(0, cut)).status().code() == Code::kNotFound);
      }
    }
  }

  TEST_CASE("a batch without a producer id stays version 1, byte for byte") {
    std::string records = records_of(2);
    BatchHeader h = header_for(records, 5, 2);
    CHECK(h.pid == kNoProducerId);
    CHECK(encode_batch_head(h) == "{\"v\":1,\"base\":5,\"n\":2,\"epoch\":2,\"ts\":1700000000000,");
    auto p = parse_batch(line_of(h, records));
    REQUIRE(p);
    CHECK(p->header.pid == kNoProducerId);
    CHECK_FALSE(p->header.is_idempotent());
  }

  TEST_CASE("the scanner streams lines longer than its window and checks their crc") {
    std::string big = records_of(200, 50);  // ~12 KB, window is 1 KB
    std::string small = records_of(1);
    auto data = std::make_shared<std::string>();
    *data += line_of(header_for(small, 0, 1), small);
    *data += line_of(header_for(big, 1, 200), big);
    *data += line_of(header_for(small, 201, 1), small);
    auto file = make_mem_file(data);
    for (auto mode : {BatchScanner::Mode::kVerify, BatchScanner::Mode::kBoundaries}) {
      BatchScanner scan(*file, 0, mode, 1024);
      ScannedBatch b;
      std::vector<int64_t> bases;
      while (scan.next(&b)) bases.push_back(b.header.base.value());
      CHECK(scan.status().is_ok());
      CHECK(bases == std::vector<int64_t>{0, 1, 201});
      CHECK(scan.pos() == static_cast<int64_t>(data->size()));
    }
    SUBCASE("a flipped byte deep in the long line is caught only when verifying") {
      std::string bad = *data;
      bad[bad.size() / 2] ^= 0x04;
      auto f = make_mem_file(std::make_shared<std::string>(bad));
      BatchScanner verify(*f, 0, BatchScanner::Mode::kVerify, 1024);
      ScannedBatch b;
      CHECK(verify.next(&b));
      CHECK_FALSE(verify.next(&b));
      CHECK(verify.status().code() == Code::kCorrupt);
      CHECK(verify.pos() == b.end());
    }
    SUBCASE("a long line cut short is a torn tail at every length") {
      size_t start = line_of(header_for(small, 0, 1), small).size();
      size_t end = start + line_of(header_for(big, 1, 200), big).size();
      for (size_t len = start + 1; len < end; len += 97) {
        auto f = make_mem_file(std::make_shared<std::string>(data->substr(0, len)));
        BatchScanner scan(*f, 0, BatchScanner::Mode::kVerify, 1024);
        ScannedBatch b;
        CHECK(scan.next(&b));
        CHECK_FALSE(scan.next(&b));
        CHECK(scan.status().code() == Code::kNotFound);
        CHECK(scan.pos() == static_cast<int64_t>(start));
      }
    }
  }
}
