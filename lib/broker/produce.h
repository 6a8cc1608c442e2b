// The produce op, the broker's hot path: works on the request's JsonScan tokens
// so the records array is validated, checksummed and appended as the exact
// bytes the producer sent, never re-serialised.
#pragma once

#include "broker/reply.h"
#include "proto/json_scan.h"

namespace kreek::broker {

struct BrokerContext;
struct Request;

// `scan` holds the request line (token 0 is the request object). Answers
// through `reply`: the ack line, an error line, or nothing at all for acks=0.
void handle_produce(BrokerContext& ctx, const Request& req, const proto::JsonScan& scan,
                    Reply reply);

}  // namespace kreek::broker
