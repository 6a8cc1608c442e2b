// Index entry encoding (little-endian, fixed size) and the append-only index file.
#include "storage/segment_index.h"

#include <cstring>

namespace kreek::storage {
namespace {

void put_u32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t get_u32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}
void put_u64(char* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint64_t get_u64(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

template <typename Entry>
std::string encode_all(const std::vector<Entry>& entries) {
  std::string out(entries.size() * Entry::kBytes, '\0');
  for (size_t i = 0; i < entries.size(); ++i) entries[i].encode(out.data() + i * Entry::kBytes);
  return out;
}

}  // namespace

void OffsetEntry::encode(char* out) const {
  put_u32(out, rel);
  put_u32(out + 4, pos);
}
OffsetEntry OffsetEntry::decode(const char* in) { return OffsetEntry{get_u32(in), get_u32(in + 4)}; }

void TimeEntry::encode(char* out) const {
  put_u64(out, static_cast<uint64_t>(ts));
  put_u32(out + 8, rel);
}
TimeEntry TimeEntry::decode(const char* in) {
  return TimeEntry{static_cast<int64_t>(get_u64(in)), get_u32(in + 8)};
}

template <typename Entry>
Status IndexFile<Entry>::load() {
  entries_.clear();
  file_matches_ = false;
  if (!file_) return Status::ok();
  int64_t size = file_->size();
  std::string bytes(static_cast<size_t>(size), '\0');
  auto got = file_->pread(0, bytes.data(), bytes.size());
  if (!got) return got.status();
  size_t n = *got / Entry::kBytes;
  entries_.reserve(n);
  for (size_t i = 0; i < n; ++i) entries_.push_back(Entry::decode(bytes.data() + i * Entry::kBytes));
  file_matches_ = (*got == n * Entry::kBytes) && static_cast<int64_t>(*got) == size;
  return Status::ok();
}

template <typename Entry>
Status IndexFile<Entry>::append(const Entry& e) {
  entries_.push_back(e);
  if (!file_) return Status::ok();
  if (!file_matches_) return rewrite(entries_);
  char buf[Entry::kBytes];
  e.encode(buf);
  Status s = file_->append(std::string_view(buf, sizeof buf));
  if (!s) file_matches_ = false;  // retried as a rewrite on the next append
  return s;
}

template <typename Entry>
Status IndexFile<Entry>::rewrite(std::vector<Entry> entries) {
  bool same = file_matches_ && entries == entries_;
  entries_ = std::move(entries);
  if (!file_ || same) return Status::ok();
  file_matches_ = false;
  KREEK_RETURN_IF_ERROR(file_->truncate(0));
  if (!entries_.empty()) KREEK_RETURN_IF_ERROR(file_->append(encode_all(entries_)));
  file_matches_ = true;
  return Status::ok();
}

template <typename Entry>
Status IndexFile<Entry>::keep_first(size_t count) {
  if (count >= entries_.size()) return Status::ok();
  entries_.resize(count);
  if (!file_) return Status::ok();
  if (!file_matches_) return rewrite(entries_);
  return file_->truncate(static_cast<int64_t>(count * Entry::kBytes));
}

template class IndexFile<OffsetEntry>;
template class IndexFile<TimeEntry>;

}  // namespace kreek::storage
