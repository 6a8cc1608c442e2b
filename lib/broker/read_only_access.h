// What a connection admitted with the read-only token (kbroker
// --read-only-token-file) may ask: reads of records, offsets, metadata,
// metrics and groups; nothing that writes records, changes a topic or a
// group, or joins replication. kreek-protocol(7) AUTHENTICATION lists it.
#pragma once

#include <string_view>

#include "base/status.h"
#include "proto/message.h"

namespace kreek::broker {

// UNAUTHORIZED unless `op` is one a read-only connection may send. Checked
// before the request's body is built (produce never builds one).
Status check_read_only_op(std::string_view op);

// UNAUTHORIZED for the writes hidden in a read op's body: a fetch as a
// follower ("replica": it moves the high watermark) and metadata that may
// create topics ("auto_create": true).
Status check_read_only_body(std::string_view op, const proto::Json& body);

}  // namespace kreek::broker
