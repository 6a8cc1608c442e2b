// StrongId<Tag>: distinct integer types for offsets, partitions, epochs and
// node ids, so a partition number can never be passed where an offset is meant.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace kreek {

template <typename Tag, typename Rep = int64_t>
class StrongId {
 public:
  using rep = Rep;
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep v) : v_(v) {}
  constexpr Rep value() const { return v_; }
  constexpr auto operator<=>(const StrongId&) const = default;
  constexpr StrongId operator+(Rep d) const { return StrongId(v_ + d); }
  constexpr StrongId operator-(Rep d) const { return StrongId(v_ - d); }
  constexpr Rep operator-(StrongId o) const { return v_ - o.v_; }
  StrongId& operator+=(Rep d) {
    v_ += d;
    return *this;
  }

 private:
  Rep v_ = 0;
};

using Offset = StrongId<struct OffsetTag>;                 // position of a record in a partition
using PartitionId = StrongId<struct PartitionTag, int32_t>;
using LeaderEpoch = StrongId<struct LeaderEpochTag, int32_t>;
using NodeId = StrongId<struct NodeTag, int32_t>;
using TimestampMs = StrongId<struct TimestampTag>;         // ms since the Unix epoch

}  // namespace kreek

template <typename Tag, typename Rep>
struct std::hash<kreek::StrongId<Tag, Rep>> {
  size_t operator()(kreek::StrongId<Tag, Rep> id) const noexcept {
    return std::hash<Rep>()(id.value());
  }
};
