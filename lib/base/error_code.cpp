// The one table of error codes: wire name, sysexits code, retriable or not.
// Append-only: a wire name, once shipped, is never renamed or reused.
#include <array>

#include "base/status.h"

namespace kreek {
namespace {

struct CodeInfo {
  Code code;
  std::string_view name;
  int exit_code;
  bool retriable;
};

// sysexits.h values, spelled out so the table reads on its own.
constexpr int kExUsage = 64, kExDataErr = 65, kExNoInput = 66, kExUnavailable = 69,
              kExSoftware = 70, kExIoErr = 74, kExTempFail = 75, kExProtocol = 76,
              kExCantCreat = 73, kExNoPerm = 77, kExConfig = 78;

constexpr std::array<CodeInfo, 34> kCodes{{
    {Code::kOk, "OK", 0, false},
    {Code::kInvalidRequest, "INVALID_REQUEST", kExUsage, false},
    {Code::kUnknownTopic, "UNKNOWN_TOPIC", kExNoInput, false},
    {Code::kTopicExists, "TOPIC_EXISTS", kExCantCreat, false},
    {Code::kOffsetOutOfRange, "OFFSET_OUT_OF_RANGE", kExDataErr, false},
    {Code::kMessageTooLarge, "MESSAGE_TOO_LARGE", kExDataErr, false},
    {Code::kCorrupt, "CORRUPT_RECORD", kExDataErr, false},
    {Code::kNotLeader, "NOT_LEADER", kExTempFail, true},
    {Code::kNotEnoughReplicas, "NOT_ENOUGH_REPLICAS", kExTempFail, true},
    {Code::kTimeout, "TIMEOUT", kExTempFail, true},
    {Code::kUnavailable, "UNAVAILABLE", kExUnavailable, true},
    {Code::kProtocol, "PROTOCOL_ERROR", kExProtocol, false},
    {Code::kIoError, "IO_ERROR", kExIoErr, false},
    {Code::kInternal, "INTERNAL", kExSoftware, false},
    {Code::kUnknownPartition, "UNKNOWN_PARTITION", kExNoInput, false},
    {Code::kNotFound, "NOT_FOUND", kExNoInput, false},
    {Code::kInvalidRecord, "INVALID_RECORD", kExDataErr, false},
    {Code::kLeaderNotAvailable, "LEADER_NOT_AVAILABLE", kExTempFail, true},
    {Code::kFencedEpoch, "FENCED_EPOCH", kExTempFail, true},
    {Code::kDuplicateBroker, "DUPLICATE_BROKER", kExConfig, false},
    {Code::kUnknownLeaderEpoch, "UNKNOWN_LEADER_EPOCH", kExTempFail, true},
    {Code::kOutOfOrderSequence, "OUT_OF_ORDER_SEQUENCE", kExDataErr, false},
    {Code::kRequestTimedOut, "REQUEST_TIMED_OUT", kExTempFail, true},
    {Code::kNotCoordinator, "NOT_COORDINATOR", kExTempFail, true},
    {Code::kCoordinatorNotAvailable, "COORDINATOR_NOT_AVAILABLE", kExTempFail, true},
    {Code::kCoordinatorLoading, "COORDINATOR_LOAD_IN_PROGRESS", kExTempFail, true},
    {Code::kIllegalGeneration, "ILLEGAL_GENERATION", kExTempFail, false},
    {Code::kUnknownMember, "UNKNOWN_MEMBER_ID", kExTempFail, false},
    {Code::kRebalanceInProgress, "REBALANCE_IN_PROGRESS", kExTempFail, false},
    {Code::kGroupNotEmpty, "GROUP_NOT_EMPTY", kExTempFail, false},
    {Code::kGroupNotFound, "GROUP_ID_NOT_FOUND", kExNoInput, false},
    {Code::kFencedInstanceId, "FENCED_INSTANCE_ID", kExConfig, false},
    {Code::kInconsistentGroupProtocol, "INCONSISTENT_GROUP_PROTOCOL", kExConfig, false},
    {Code::kUnauthorized, "UNAUTHORIZED", kExNoPerm, false},
}};

const CodeInfo& info(Code code) {
  for (const auto& c : kCodes)
    if (c.code == code) return c;
  return kCodes[static_cast<size_t>(Code::kInternal)];
}

}  // namespace

std::string_view code_name(Code code) { return info(code).name; }

Code code_from_name(std::string_view name) {
  for (const auto& c : kCodes)
    if (c.name == name) return c.code;
  return Code::kInternal;
}

int exit_code(Code code) { return info(code).exit_code; }
bool is_retriable(Code code) { return info(code).retriable; }

}  // namespace kreek
