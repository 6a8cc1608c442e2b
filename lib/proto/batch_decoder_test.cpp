// BatchDecoder: records with offsets and batch ts out of stored batch lines,
// CRC and shape checks, line splitting, and a throughput probe run on demand.
#include "proto/batch_decoder.h"

#include <doctest/doctest.h>

#include <ctime>
#include <limits>
#include <cstdio>

#include "base/crc32c.h"

using namespace kreek;
using namespace kreek::proto;

namespace {

// A batch line as the broker stores it (lib/storage/batch_format.h).
std::string batch_line(int64_t base, const std::string& records, int64_t n = -1, int64_t crc = -1) {
  if (n < 0) {
    JsonScan s;
    REQUIRE(s.scan(records).is_ok());
    n = s.at(0).size;
  }
  const std::string head = "{\"v\":1,\"base\":" + std::to_string(base) + ",\"n\":" +
                           std::to_string(n) + ",\"epoch\":3,\"ts\":1700000000000,";
  if (crc < 0) crc = crc32c::extend(crc32c::value(records), head.data(), head.size());
  return head + "\"crc\":" + std::to_string(crc) + ",\"records\":" + records + "}\n";
}

}  // namespace

TEST_SUITE("proto") {
  TEST_CASE("a version 2 batch decodes with its producer fields, checked by the crc") {
    const std::string records = R"([{"value":"a"},{"value":"b"}])";
    const std::string head =
        "{\"v\":2,\"base\":10,\"n\":2,\"epoch\":3,\"ts\":1700000000000,\"pid\":7,\"pepoch\":1,\"seq\":40,";
    const uint32_t crc = crc32c::extend(crc32c::value(records), head.data(), head.size());
    std::string line = head + "\"crc\":" + std::to_string(crc) + ",\"records\":" + records + "}\n";
    BatchDecoder dec;
    REQUIRE(dec.reset(line).is_ok());
    CHECK(dec.batch().pid == 7);
    CHECK(dec.batch().pepoch == 1);
    CHECK(dec.batch().seq == 40);
    REQUIRE(dec.next());
    CHECK(dec.offset() == Offset(10));
    REQUIRE(dec.next());
    CHECK_FALSE(dec.next());
    line[line.find("\"seq\":40") + 6] = '5';  // the head is under the crc
    CHECK(dec.reset(line).code() == Code::kCorrupt);
  }

  TEST_CASE("batch decoding yields each record with its offset and the batch ts") {
    const std::string line =
        batch_line(100, R"([{"key":"k","value":"a"},{"value64":"/w=="},{"headers":{"h":"x"},"ts":5}])");
    BatchDecoder dec;
    REQUIRE(dec.reset(line).is_ok());
    CHECK(dec.batch().base == Offset(100));
    CHECK(dec.batch().n == 3);
    CHECK(dec.batch().epoch == LeaderEpoch(3));
    CHECK(dec.batch().ts == TimestampMs(1700000000000));
    REQUIRE(dec.next());
    CHECK(dec.offset() == Offset(100));
    CHECK(dec.record().key == "k");
    CHECK(dec.record().value == "a");
    REQUIRE(dec.next());
    CHECK(dec.offset() == Offset(101));
    CHECK_FALSE(dec.record().key.has_value());
    CHECK(dec.record().value == "\xff");
    REQUIRE(dec.next());
    CHECK(dec.offset() == Offset(102));
    CHECK_FALSE(dec.record().value.has_value());
    CHECK(dec.record().ts == 5);
    REQUIRE(dec.record().headers.size() == 1);
    CHECK(dec.record().headers[0].second == "x");
    CHECK_FALSE(dec.next());
    CHECK(dec.status().is_ok());
  }

  TEST_CASE("the CRC covers the stamped head fields too") {
    const std::string records = R"([{"value":"a"}])";
    BatchDecoder dec;
    CHECK(dec.reset(batch_line(7, records)).is_ok());
    std::string line = batch_line(7, records);
    line[line.find("1700000000000") + 3] = '9';  // a different append time
    CHECK(dec.reset(line).code() == Code::kCorrupt);
  }

  TEST_CASE("a CRC mismatch is corrupt and yields no records") {
    const std::string records = R"([{"value":"a"}])";
    BatchDecoder dec;
    Status s = dec.reset(batch_line(7, records, 1, crc32c::value(records) ^ 1));
    CHECK(s.code() == Code::kCorrupt);
    CHECK(s.message() == "corrupt batch at offset 7: CRC-32C mismatch");
    CHECK_FALSE(dec.next());
    CHECK(dec.status().code() == Code::kCorrupt);
    // A flipped byte inside the records bytes, CRC unchanged.
    std::string line = batch_line(7, records);
    line[line.find("\"a\"") + 1] = 'b';
    CHECK(dec.reset(line).code() == Code::kCorrupt);
  }

  TEST_CASE("malformed batch lines are corrupt with a reason") {
    BatchDecoder dec;
    const std::string rec = R"([{"value":"a"}])";
    CHECK(dec.reset("{\"v\":1,").message().find("corrupt batch: invalid JSON") == 0);
    CHECK(dec.reset("[]").message() == "corrupt batch: not a JSON object");
    CHECK(dec.reset(batch_line(1, rec, 2)).message() == "corrupt batch at offset 1: n is 2 but records holds 1");
    std::string v2 = batch_line(1, rec);
    v2.replace(v2.find("\"v\":1"), 5, "\"v\":2");  // v2 without its producer fields
    CHECK(dec.reset(v2).message() == "corrupt batch at offset 1: missing or bad producer field");
    std::string v3 = batch_line(1, rec);
    v3.replace(v3.find("\"v\":1"), 5, "\"v\":3");
    CHECK(dec.reset(v3).message() == "corrupt batch at offset 1: unsupported batch version 3");
    std::string no_ts = batch_line(1, rec);
    no_ts.replace(no_ts.find("\"ts\""), 4, "\"tz\"");
    CHECK(dec.reset(no_ts).message() == "corrupt batch at offset 1: missing or bad header field");
    // Valid JSON, matching CRC, but a record of the wrong shape.
    const std::string bad_rec = R"([{"value":1}])";
    const std::string bad_line = batch_line(9, bad_rec);  // must outlive the iteration
    REQUIRE(dec.reset(bad_line).is_ok());
    CHECK_FALSE(dec.next());
    CHECK(dec.status().code() == Code::kCorrupt);
    CHECK(dec.status().message() == "batch at offset 9: record: value is not a string");
  }

  TEST_CASE("a batch whose base + n overflows an offset is corrupt") {
    const std::string records = R"([{"value":"a"},{"value":"b"}])";
    BatchDecoder dec;
    Status s = dec.reset(batch_line(std::numeric_limits<int64_t>::max(), records));
    CHECK(s.code() == Code::kCorrupt);
    CHECK(s.message().find("overflows") != std::string::npos);
    CHECK_FALSE(dec.next());
    // The largest base that still fits: base + n == INT64_MAX.
    CHECK(dec.reset(batch_line(std::numeric_limits<int64_t>::max() - 2, records)).is_ok());
  }

  TEST_CASE("take_line splits complete lines and leaves a torn tail") {
    std::string_view bytes = "a\nbc\ntorn";
    std::string_view line;
    REQUIRE(take_line(bytes, line));
    CHECK(line == "a\n");
    REQUIRE(take_line(bytes, line));
    CHECK(line == "bc\n");
    CHECK_FALSE(take_line(bytes, line));
    CHECK(bytes == "torn");
    std::string_view empty;
    CHECK_FALSE(take_line(empty, line));
  }

  TEST_CASE("batch decoding throughput" * doctest::skip()) {
    // Run with: kreek_unit -tc="batch decoding throughput" --no-skip
    std::string value;
    for (int i = 0; i < 100; ++i) value.push_back(static_cast<char>('a' + i % 26));
    std::string records = "[";
    for (int i = 0; i < 1000; ++i) {
      if (i) records += ',';
      records += R"({"value":")" + value + "\"}";
    }
    records += "]";
    std::string fetch;
    for (int b = 0; b < 100; ++b) fetch += batch_line(b * 1000, records, 1000);
    BatchDecoder dec;
    size_t total = 0, value_bytes = 0;
    const int rounds = 20;
    // CPU time, not wall time: the figure should not depend on other load.
    const std::clock_t t0 = std::clock();
    for (int r = 0; r < rounds; ++r) {
      std::string_view bytes = fetch, line;
      while (take_line(bytes, line)) {
        REQUIRE(dec.reset(line).is_ok());
        while (dec.next()) {
          ++total;
          value_bytes += dec.record().value->size();
        }
      }
    }
    const double secs = static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC;
    std::printf("batch decoding: %.2f M records/s, %.0f MB/s of batch lines (100-byte values, 1000 per batch)\n",
                total / secs / 1e6, static_cast<double>(fetch.size()) * rounds / secs / 1e6);
    CHECK(value_bytes == total * 100);
  }
}
