// parse_reply and the sample of a foreign peer's answer.
#include "client/reply.h"

#include <cstdio>

namespace kreek::client {

std::string printable_sample(std::string_view bytes, size_t max) {
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == max) {
      out += "...";
      break;
    }
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char esc[8];
      std::snprintf(esc, sizeof(esc), "\\x%02x", c);
      out += esc;
    }
  }
  return out;
}

Result<proto::Json> parse_reply(BrokerConnection& conn, std::string_view line) {
  auto r = proto::parse_response(line);
  if (r.is_ok()) {
    conn.note_answer();
    return r;
  }
  conn.mark_broken();
  if (conn.has_answered()) return r.status();
  return Status(Code::kProtocol, conn.address() + " is not a kreek broker (it answered \"" +
                                     printable_sample(line) + "\")");
}

}  // namespace kreek::client
