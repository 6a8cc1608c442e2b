// The fetch op: parse a request (single or multi-part form), read each part's
// batches as file ranges, and build the response — one JSON header line, then
// for each part exactly "bytes" bytes of whole batch lines from the segment
// files (sent with sendfile). Empty answers with max_wait_ms > 0 park in the
// FetchPurgatory until data arrives or the deadline passes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/strong_id.h"
#include "broker/reply.h"
#include "net/net.h"

namespace kreek::broker {

struct BrokerContext;
struct Request;

struct FetchPart {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t leader_epoch = -1;  // the epoch the sender believes in; -1: not given (consumers may omit it)
};

struct FetchRequest {
  std::string id_raw;  // echoed verbatim
  std::vector<FetchPart> parts;
  int64_t max_bytes = 0;    // data bytes across parts (passed by one batch at most)
  int64_t min_bytes = 1;    // answer at once when at least this much is ready
  int64_t max_wait_ms = 0;  // long poll: 0 answers at once
  // A follower's fetch: its node id (-1 for consumers). Reads up to the log
  // end rather than the high watermark, and tells the leader the follower's log end.
  int32_t replica = -1;
  int64_t broker_epoch = -1;  // a follower's registration (KIP-903)
};

// Validates the request fields into `out` (kInvalidRequest with a clear message):
// at most `max_parts` parts (0 = any number), none naming a partition twice.
Status parse_fetch(const nlohmann::ordered_json& req, std::string id_raw, FetchRequest& out,
                   int64_t max_parts = 0);

struct FetchOutcome {
  net::Response response;
  int64_t bytes = 0;       // data bytes across parts
  bool has_error = false;  // some part failed: answer at once, never park
  // Some part's offsets up to hw hold no record (compacted away): answering
  // now lets the consumer move to hw instead of waiting out max_wait_ms.
  bool skipped_gap = false;
  // What each part that read data carries, for the traffic metrics.
  struct PartSent {
    size_t part;  // index into the request's parts
    int64_t bytes;
    int64_t records;  // offsets covered
  };
  std::vector<PartSent> sent;
};

// Counts what `out` carries into the topics' traffic metrics; call once, when
// the answer is sent.
void note_fetch_sent(BrokerContext& ctx, const FetchRequest& req, const FetchOutcome& out);

// Checks the leader epoch a request names for topic/p against this broker's:
// an older one is FENCED_EPOCH, a newer one UNKNOWN_LEADER_EPOCH (retriable:
// this broker has not applied the metadata yet). -1 (not given) passes.
Status check_leader_epoch(BrokerContext& ctx, const std::string& topic, PartitionId p, int32_t epoch);

// Reads every part now (consumers up to each partition's high watermark,
// followers up to its log end).
FetchOutcome read_fetch(BrokerContext& ctx, const FetchRequest& req);

// The fetch op: answers now, or parks a long poll.
void handle_fetch(BrokerContext& ctx, const Request& req, const nlohmann::ordered_json& body, Reply reply);

}  // namespace kreek::broker
