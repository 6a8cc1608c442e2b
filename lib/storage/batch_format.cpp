// Batch lines: writing the broker-stamped prefix and parsing a line back with
// strict key order, framing and CRC checks. Hand-rolled rather than a JSON
// parser because recovery and fetch scans run it once per batch.
#include "storage/batch_format.h"

#include <charconv>
#include <cstring>

#include "base/crc32c.h"

namespace kreek::storage {
namespace {

// Result of a step of the prefix parser.
enum class Step { kOk, kMore, kBad };

class PrefixParser {
 public:
  explicit PrefixParser(std::string_view bytes) : s_(bytes) {}

  Step literal(std::string_view lit) {
    size_t avail = s_.size() - pos_;
    size_t n = avail < lit.size() ? avail : lit.size();
    if (std::memcmp(s_.data() + pos_, lit.data(), n) != 0) return fail("expected " + quote(lit));
    if (n < lit.size()) return Step::kMore;
    pos_ += n;
    return Step::kOk;
  }

  // A JSON integer without leading zeros, fraction or exponent; `allow_minus`
  // only for the epoch (-1 is Kafka's "no epoch").
  Step integer(int64_t* out, bool allow_minus) {
    bool neg = false;
    if (pos_ < s_.size() && s_[pos_] == '-' && allow_minus) {
      neg = true;
      ++pos_;
    }
    size_t start = pos_;
    int64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s_[pos_] - '0', &v))
        return fail("number out of range");
      ++pos_;
    }
    if (pos_ == s_.size()) return Step::kMore;  // the number may go on
    if (pos_ == start) return fail("expected a number");
    if (s_[start] == '0' && pos_ - start > 1) return fail("number with a leading zero");
    *out = neg ? -v : v;
    return Step::kOk;
  }

  size_t pos() const { return pos_; }
  const std::string& error() const { return error_; }

 private:
  // Appended piecewise: GCC 12 warns falsely (-Wrestrict) about "'" + std::string(lit).
  static std::string quote(std::string_view lit) {
    std::string out;
    out.reserve(lit.size() + 2);
    out += '\'';
    out.append(lit);
    out += '\'';
    return out;
  }
  Step fail(std::string what) {
    error_ = "malformed batch prefix at byte " + std::to_string(pos_) + ": " + what;
    return Step::kBad;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

Status incomplete() { return Status(Code::kNotFound, "incomplete batch line"); }

}  // namespace

std::string encode_batch_head(const BatchHeader& h) {
  std::string out;
  out.reserve(kMaxBatchPrefixBytes);
  out += "{\"v\":";
  out += std::to_string(h.version());
  out += ",\"base\":";
  out += std::to_string(h.base.value());
  out += ",\"n\":";
  out += std::to_string(h.n);
  out += ",\"epoch\":";
  out += std::to_string(h.epoch.value());
  out += ",\"ts\":";
  out += std::to_string(h.ts.value());
  if (h.is_idempotent()) {
    out += ",\"pid\":";
    out += std::to_string(h.pid);
    out += ",\"pepoch\":";
    out += std::to_string(h.pepoch);
    out += ",\"seq\":";
    out += std::to_string(h.seq);
  }
  out += ',';
  return out;
}

uint32_t batch_crc(uint32_t records_crc, std::string_view head) {
  return crc32c::extend(records_crc, head.data(), head.size());
}

std::string encode_batch_prefix(const BatchHeader& h) {
  std::string out = encode_batch_head(h);
  out += "\"crc\":";
  out += std::to_string(h.crc);
  out += ",\"records\":";
  return out;
}

Result<BatchPrefix> parse_batch_prefix(std::string_view bytes) {
  if (bytes.empty()) return incomplete();
  PrefixParser p(bytes);
  int64_t version = 0, base = 0, n = 0, epoch = 0, ts = 0, crc = 0;
  int64_t pid = kNoProducerId, pepoch = 0, seq = 0;
  struct Field {
    std::string_view key;
    int64_t* value;
    bool allow_minus;
    bool v2_only;  // only in version 2 lines, between "ts" and "crc"
  };
  const Field fields[] = {{"{\"v\":", &version, false, false},  {",\"base\":", &base, false, false},
                          {",\"n\":", &n, false, false},        {",\"epoch\":", &epoch, true, false},
                          {",\"ts\":", &ts, false, false},      {",\"pid\":", &pid, false, true},
                          {",\"pepoch\":", &pepoch, false, true}, {",\"seq\":", &seq, false, true},
                          {",\"crc\":", &crc, false, false}};
  size_t head_bytes = 0;
  for (const Field& f : fields) {
    if (f.v2_only && version != kIdempotentBatchFormatVersion) continue;
    if (f.value == &crc) head_bytes = p.pos() + 1;  // through the comma before "crc"
    Step st = p.literal(f.key);
    if (st == Step::kOk) st = p.integer(f.value, f.allow_minus);
    if (st == Step::kMore) return incomplete();
    if (st == Step::kBad) return corrupt(p.error());
    if (f.value == &version && version != kBatchFormatVersion && version != kIdempotentBatchFormatVersion)
      return corrupt("unknown batch format version " + std::to_string(version));
  }
  Step st = p.literal(",\"records\":");
  if (st == Step::kMore) return incomplete();
  if (st == Step::kBad) return corrupt(p.error());
  if (n < 1 || n > INT32_MAX) return corrupt("batch record count " + std::to_string(n) + " is not in [1, 2^31)");
  if (epoch < -1 || epoch > INT32_MAX) return corrupt("batch epoch " + std::to_string(epoch) + " is out of range");
  if (crc > UINT32_MAX) return corrupt("batch crc " + std::to_string(crc) + " is out of range");
  if (base > INT64_MAX - n) return corrupt("batch base offset " + std::to_string(base) + " is out of range");
  if (pepoch > INT16_MAX) return corrupt("batch producer epoch " + std::to_string(pepoch) + " is out of range");
  if (seq > INT32_MAX) return corrupt("batch sequence " + std::to_string(seq) + " is out of range");
  BatchPrefix out;
  out.header.base = Offset(base);
  out.header.n = static_cast<int32_t>(n);
  out.header.epoch = LeaderEpoch(static_cast<int32_t>(epoch));
  out.header.ts = TimestampMs(ts);
  out.header.crc = static_cast<uint32_t>(crc);
  out.header.pid = pid;
  out.header.pepoch = static_cast<int16_t>(pepoch);
  out.header.seq = static_cast<int32_t>(seq);
  out.head_bytes = head_bytes;
  out.prefix_bytes = p.pos();
  return out;
}

Result<ParsedBatch> parse_batch(std::string_view bytes) {
  // Framing first: with no newline there is no complete line to judge, which
  // is what a torn tail looks like.
  const char* nl = static_cast<const char*>(std::memchr(bytes.data(), '\n', bytes.size()));
  if (nl == nullptr) return incomplete();
  size_t line_bytes = static_cast<size_t>(nl - bytes.data()) + 1;
  std::string_view line = bytes.substr(0, line_bytes);

  auto prefix = parse_batch_prefix(line);
  if (!prefix) {
    if (prefix.status().code() == Code::kNotFound) return corrupt("batch line ends inside its prefix");
    return prefix.status();
  }
  size_t rs = prefix->prefix_bytes;
  // line = prefix + records + "}\n"; records = '[' ... ']'.
  if (line_bytes < rs + 4 || line[rs] != '[' || line[line_bytes - 3] != ']' ||
      line[line_bytes - 2] != '}')
    return corrupt("batch line does not end with a records array and \"}\"");
  std::string_view records = line.substr(rs, line_bytes - 2 - rs);
  uint32_t actual = batch_crc(crc32c::value(records), line.substr(0, prefix->head_bytes));
  if (actual != prefix->header.crc)
    return corrupt("batch crc " + std::to_string(prefix->header.crc) + " does not match records crc " +
                   std::to_string(actual));
  ParsedBatch out;
  out.header = prefix->header;
  out.records = records;
  out.line_bytes = line_bytes;
  return out;
}

}  // namespace kreek::storage
