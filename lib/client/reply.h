// Reading a reply line from a broker: parse it as a protocol response, and
// tell a peer that is not a kreek broker at all (an HTTP server, a typo'd
// port) apart from a broker that sent one bad line. Both are PROTOCOL_ERROR
// (exit 76); the first gets one clear sentence instead of a JSON parser message.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "client/broker_connection.h"
#include "proto/message.h"

namespace kreek::client {

// parse_response(line), remembering on `conn` that it answered in protocol.
// If the very first reply on `conn` is not a protocol response, the error is
// `127.0.0.1:9092 is not a kreek broker (it answered "HTTP/1.0 400 ...")`.
// Any unparseable reply marks `conn` broken: its framing is lost.
Result<proto::Json> parse_reply(BrokerConnection& conn, std::string_view line);

// At most `max` bytes of `bytes` for a message, non-printables as \xNN, "..."
// when cut.
std::string printable_sample(std::string_view bytes, size_t max = 64);

}  // namespace kreek::client
