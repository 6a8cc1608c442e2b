// truncation_offset: the follower's cut after offsets_for_epoch. See truncation.h.
#include "repl/truncation.h"

#include <algorithm>

namespace kreek::repl {

TruncationStep truncation_step(const storage::EpochEnd& answer, Offset follower_leo,
                               const std::function<storage::EpochEnd(LeaderEpoch)>& own_end_for) {
  if (answer.epoch.value() < 0 || answer.end.value() < 0) return {std::nullopt, true};
  storage::EpochEnd own = own_end_for(answer.epoch);
  if (own.epoch.value() < 0 || own.end.value() < 0) return {std::nullopt, true};
  Offset cut = std::min({answer.end, own.end, follower_leo});
  return {cut, own.epoch == answer.epoch};
}

std::optional<Offset> truncation_offset(const storage::EpochEnd& answer, Offset follower_leo,
                                        const std::function<storage::EpochEnd(LeaderEpoch)>& own_end_for) {
  return truncation_step(answer, follower_leo, own_end_for).offset;
}

}  // namespace kreek::repl
