// BatchDecoder: validate a batch line once with JsonScan, check its CRC, then
// walk the records array's tokens. The CRC covers the records array, then the
// head of the line up to the "crc" key (storage/batch_format.h), so a client
// never prints bytes the broker did not store.
#include "proto/batch_decoder.h"

#include <cstring>
#include <limits>

#include "base/crc32c.h"

namespace kreek::proto {
namespace {

// base < 0: not known yet.
Status bad_batch(int64_t base, std::string_view what) {
  std::string m = "corrupt batch";
  if (base >= 0) {
    m += " at offset ";
    m += std::to_string(base);
  }
  m += ": ";
  m += what;
  return corrupt(std::move(m));
}

}  // namespace

Status BatchDecoder::reset(std::string_view line) {
  meta_ = BatchMeta{};
  next_token_ = 0;
  index_ = 0;
  // Fail closed until the line checks out: next() yields nothing.
  status_ = Status(Code::kCorrupt, "batch not decoded");
  Status s = scan_.scan(line);
  if (!s.is_ok()) return status_ = bad_batch(-1, s.message());
  if (scan_.at(0).type != TokType::kObject) return status_ = bad_batch(-1, "not a JSON object");

  auto get = [&](const char* key, int64_t lo, int64_t hi, int64_t& v) {
    const int64_t t = scan_.find(0, key);
    return t >= 0 && scan_.get_int(static_cast<uint32_t>(t), v) && v >= lo && v <= hi;
  };
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t base = 0, version = 0, n = 0, epoch = 0, ts = 0, crc = 0;
  if (!get("base", 0, kMax, base)) return status_ = bad_batch(-1, "missing or bad \"base\"");
  if (!get("v", 0, kMax, version)) return status_ = bad_batch(base, "missing or bad \"v\"");
  // v2 adds an idempotent producer's "pid", "pepoch" and "seq" (before "crc",
  // so the CRC check below covers them like the rest of the head).
  if (version != 1 && version != 2)
    return status_ = bad_batch(base, "unsupported batch version " + std::to_string(version));
  int64_t pid = -1, pepoch = 0, seq = 0;
  if (version == 2 && (!get("pid", 0, kMax, pid) || !get("pepoch", 0, std::numeric_limits<int16_t>::max(), pepoch) ||
                       !get("seq", 0, std::numeric_limits<int32_t>::max(), seq)))
    return status_ = bad_batch(base, "missing or bad producer field");
  if (!get("n", 1, std::numeric_limits<int32_t>::max(), n) ||
      !get("epoch", 0, std::numeric_limits<int32_t>::max(), epoch) || !get("ts", 0, kMax, ts) ||
      !get("crc", 0, std::numeric_limits<uint32_t>::max(), crc))
    return status_ = bad_batch(base, "missing or bad header field");
  // The batch's last offset, base + n - 1, and the next one after it must be
  // representable: the storage parser refuses a batch whose base + n overflows,
  // and so does the decoder, since offset() and the consumer add them.
  if (base > kMax - n)
    return status_ = bad_batch(base, "base + n overflows a 64-bit offset (n is " + std::to_string(n) + ")");
  const int64_t records = scan_.find(0, "records");
  if (records < 0 || scan_.at(static_cast<uint32_t>(records)).type != TokType::kArray)
    return status_ = bad_batch(base, "missing \"records\" array");
  const uint32_t arr = static_cast<uint32_t>(records);
  if (scan_.at(arr).size != static_cast<uint32_t>(n))
    return status_ = bad_batch(base, "n is " + std::to_string(n) + " but records holds " +
                                              std::to_string(scan_.at(arr).size));
  // The stored crc covers the records, then the head: every byte of the line
  // before the "crc" key (kreek-format(5); storage/batch_format.h).
  const uint32_t crc_key = static_cast<uint32_t>(scan_.find(0, "crc")) - 1;
  const std::string_view head = line.substr(0, scan_.at(crc_key).start);
  if (crc32c::extend(crc32c::value(scan_.raw(arr)), head.data(), head.size()) !=
      static_cast<uint32_t>(crc))
    return status_ = bad_batch(base, "CRC-32C mismatch");

  meta_.base = Offset(base);
  meta_.n = static_cast<int32_t>(n);
  meta_.epoch = LeaderEpoch(static_cast<int32_t>(epoch));
  meta_.ts = TimestampMs(ts);
  meta_.crc = static_cast<uint32_t>(crc);
  meta_.pid = pid;
  meta_.pepoch = static_cast<int16_t>(pepoch);
  meta_.seq = static_cast<int32_t>(seq);
  next_token_ = arr + 1;
  status_ = Status();
  return status_;
}

bool BatchDecoder::next() {
  if (!status_.is_ok() || index_ >= meta_.n) return false;
  Status s = decode_record(scan_, next_token_, record_);
  if (!s.is_ok()) {
    status_ = s.with_context("batch at offset " + std::to_string(meta_.base.value() + index_));
    return false;
  }
  next_token_ = scan_.at(next_token_).next;
  ++index_;
  return true;
}

bool take_line(std::string_view& bytes, std::string_view& line) {
  if (bytes.empty()) return false;  // data() may be null: keep it away from memchr
  const void* nl = std::memchr(bytes.data(), '\n', bytes.size());
  if (nl == nullptr) return false;
  const size_t len = static_cast<const char*>(nl) - bytes.data() + 1;
  line = bytes.substr(0, len);
  bytes.remove_prefix(len);
  return true;
}

}  // namespace kreek::proto
