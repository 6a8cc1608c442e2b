// Truncation by leader epoch (KIP-101/279): where a follower cuts its log
// after asking the leader (offsets_for_epoch) where the follower's latest epoch
// ended in the leader's history. Never a remembered HW: that is the pre-KIP-101
// rule that lost or diverged acknowledged records.
#pragma once

#include <functional>
#include <optional>

#include "base/strong_id.h"
#include "storage/leader_epoch_cache.h"

namespace kreek::repl {

// `leader_answer` = the leader's end_offset_for(the follower's latest epoch).
// Same epoch as the follower's -> min(answer.end, follower_leo). A smaller
// epoch E' (the leader never had the follower's) -> min(answer.end,
// own_end_for(E').end) (KIP-279). {-1,-1}, or a follower with no epoch <= E':
// nullopt, nothing in common, truncate everything.
std::optional<Offset> truncation_offset(const storage::EpochEnd& leader_answer, Offset follower_leo,
                                        const std::function<storage::EpochEnd(LeaderEpoch)>& own_end_for);

// Added: the same cut, plus whether it is final. When the follower does not
// have E' itself (its own_end_for(E') names an older epoch), the cut is only
// safe as a first step: after truncating, ask the leader again for the new
// latest epoch (Kafka's fetcher loops the same way). Complete otherwise.
struct TruncationStep {
  std::optional<Offset> offset;  // nullopt: truncate everything
  bool complete = true;
};
TruncationStep truncation_step(const storage::EpochEnd& leader_answer, Offset follower_leo,
                               const std::function<storage::EpochEnd(LeaderEpoch)>& own_end_for);

}  // namespace kreek::repl
