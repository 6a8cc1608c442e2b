// Status and Result<T>: how every kreek function reports failure.
// A Status is a Code plus a one-line message; OK allocates nothing. Codes map
// one-to-one onto wire error codes (lib/proto/error_code.h) and CLI exit codes.
#pragma once

#include <cassert>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace kreek {

// Append-only: wire names and exit codes hang off these (error_code.cpp holds
// the one table; kreek-protocol(7) documents it).
enum class Code {
  kOk = 0,
  kInvalidRequest,     // INVALID_REQUEST      exit 64
  kUnknownTopic,       // UNKNOWN_TOPIC        exit 66
  kTopicExists,        // TOPIC_EXISTS         exit 73
  kOffsetOutOfRange,   // OFFSET_OUT_OF_RANGE  exit 65
  kMessageTooLarge,    // MESSAGE_TOO_LARGE    exit 65
  kCorrupt,            // CORRUPT_RECORD       exit 65
  kNotLeader,          // NOT_LEADER           exit 75 (retriable)
  kNotEnoughReplicas,  // NOT_ENOUGH_REPLICAS  exit 75 (retriable)
  kTimeout,            // TIMEOUT              exit 75 (retriable)
  kUnavailable,        // UNAVAILABLE          exit 69 (retriable; client: cannot connect)
  kProtocol,           // PROTOCOL_ERROR       exit 76
  kIoError,            // IO_ERROR             exit 74
  kInternal,           // INTERNAL             exit 70
  kUnknownPartition,   // UNKNOWN_PARTITION    exit 66
  kNotFound,           // NOT_FOUND            exit 66 (a file or other local object)
  kInvalidRecord,      // INVALID_RECORD       exit 65 (e.g. a keyless record for a compacted topic)
  kLeaderNotAvailable, // LEADER_NOT_AVAILABLE exit 75 (retriable: no live in-sync replica leads it now)
  kFencedEpoch,        // FENCED_EPOCH         exit 75 (retriable: the request named an epoch that was superseded)
  kDuplicateBroker,    // DUPLICATE_BROKER     exit 78 (another live broker holds this node id)
  kUnknownLeaderEpoch, // UNKNOWN_LEADER_EPOCH exit 75 (retriable: the request named an epoch newer than the broker's)
  kOutOfOrderSequence, // OUT_OF_ORDER_SEQUENCE exit 65 (an idempotent producer's batch skipped sequence numbers)
  kRequestTimedOut,    // REQUEST_TIMED_OUT    exit 75 (retriable: acks=all not replicated in time; may be written)
  kNotCoordinator,     // NOT_COORDINATOR      exit 75 (retriable: another broker coordinates the group; ask find_coordinator)
  kCoordinatorNotAvailable, // COORDINATOR_NOT_AVAILABLE exit 75 (retriable: the offsets topic or its leader is not there yet)
  kCoordinatorLoading, // COORDINATOR_LOAD_IN_PROGRESS exit 75 (retriable: the coordinator is reading the group's state)
  kIllegalGeneration,  // ILLEGAL_GENERATION   exit 75 (the member's generation is old: rejoin)
  kUnknownMember,      // UNKNOWN_MEMBER_ID    exit 75 (the group no longer knows the member: rejoin)
  kRebalanceInProgress,// REBALANCE_IN_PROGRESS exit 75 (the group is rebalancing: rejoin)
  kGroupNotEmpty,      // GROUP_NOT_EMPTY      exit 75 (the group has live members; stop them first)
  kGroupNotFound,      // GROUP_ID_NOT_FOUND   exit 66
  kFencedInstanceId,   // FENCED_INSTANCE_ID   exit 78 (another member joined with the same instance id)
  kInconsistentGroupProtocol, // INCONSISTENT_GROUP_PROTOCOL exit 78 (the member's assignor differs from the group's)
  kUnauthorized,       // UNAUTHORIZED         exit 77 (no hello with the server's auth token; the connection closes)
};

// The wire name ("NOT_LEADER"), and back; unknown names map to kInternal.
std::string_view code_name(Code code);
Code code_from_name(std::string_view name);
// sysexits(3) code a CLI exits with when an operation ends with this code.
int exit_code(Code code);
// True when the same request may succeed later (leader moved, broker down, timeout).
bool is_retriable(Code code);

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;  // OK
  Status(Code code, std::string message)
      : rep_(code == Code::kOk ? nullptr
                               : std::make_shared<const Rep>(Rep{code, std::move(message)})) {}

  static Status ok() { return Status(); }

  bool is_ok() const { return rep_ == nullptr; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  const std::string& message() const;
  // "message (CODE)", for logs and CLI diagnostics.
  std::string to_string() const;

  // Returns a copy whose message is "context: message".
  Status with_context(std::string_view context) const;

 private:
  struct Rep {
    Code code;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;  // null means OK; shared so copies are cheap
};

// Shorthands: invalid_request("bad offset -1").
inline Status invalid_request(std::string m) { return Status(Code::kInvalidRequest, std::move(m)); }
inline Status io_error(std::string m) { return Status(Code::kIoError, std::move(m)); }
inline Status corrupt(std::string m) { return Status(Code::kCorrupt, std::move(m)); }
inline Status internal_error(std::string m) { return Status(Code::kInternal, std::move(m)); }
// "op path: strerror(errno_value)", the house format for system call failures.
Status errno_status(std::string_view op, std::string_view object, int errno_value);

// Result<T>: a T or a failed Status, shaped like C++23 std::expected.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).is_ok() && "Result built from an OK status");
  }

  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  Status status() const { return is_ok() ? Status() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace kreek

// Propagate a failed Status from an expression returning Status.
#define KREEK_RETURN_IF_ERROR(expr)             \
  do {                                          \
    ::kreek::Status kreek_status_ = (expr);     \
    if (!kreek_status_.is_ok()) return kreek_status_; \
  } while (0)

#define KREEK_CONCAT_INNER_(a, b) a##b
#define KREEK_CONCAT_(a, b) KREEK_CONCAT_INNER_(a, b)
// KREEK_ASSIGN_OR_RETURN(auto x, f()); declares x from a Result or returns its Status.
#define KREEK_ASSIGN_OR_RETURN(decl, expr) \
  KREEK_ASSIGN_OR_RETURN_IMPL_(KREEK_CONCAT_(kreek_result_, __LINE__), decl, expr)
#define KREEK_ASSIGN_OR_RETURN_IMPL_(tmp, decl, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.is_ok()) return tmp.status();              \
  decl = std::move(tmp).value()
