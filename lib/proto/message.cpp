// Protocol lines: response and request builders, the request envelope, and the
// client-side readers for responses and fetch headers. nlohmann exceptions stop
// here (parse errors, type errors) and come out as Status.
#include "proto/message.h"

#include <limits>

#include "base/crc32c.h"
#include "base/json_value.h"

namespace kreek::proto {
namespace {

// Serialises without throwing on invalid UTF-8 (a Status message may quote
// bytes from the network): bad bytes become U+FFFD.
void append_dump(std::string& out, const Json& j) {
  out += j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Appends `,"k":v` for each member of object `fields`.
void append_members(std::string& out, const Json& fields) {
  if (!fields.is_object()) return;
  for (const auto& [k, v] : fields.items()) {
    out.push_back(',');
    append_json_string(out, k);
    out.push_back(':');
    append_dump(out, v);
  }
}

void append_id_prefix(std::string& out, std::string_view id_raw, bool ok) {
  out += "{\"id\":";
  out += id_raw.empty() ? std::string_view("null") : id_raw;
  out += ok ? ",\"ok\":true" : ",\"ok\":false";
}

Status malformed(std::string_view what, std::string_view detail) {
  std::string m = "malformed ";
  m += what;
  m += ": ";
  m += detail;
  return Status(Code::kProtocol, std::move(m));
}

}  // namespace

std::string error_line(std::string_view id_raw, const Status& s, const Json* extra_error_fields) {
  // Invariant: callers only report failures; an OK status here is a bug, sent as INTERNAL.
  const Code code = s.is_ok() ? Code::kInternal : s.code();
  std::string out;
  out.reserve(96 + s.message().size());
  append_id_prefix(out, id_raw, false);
  out += ",\"error\":{\"code\":";
  append_json_string(out, code_name(code));
  out += ",\"message\":";
  append_json_string(out, s.is_ok() ? std::string_view("error reported with an OK status")
                                    : std::string_view(s.message()));
  if (extra_error_fields && extra_error_fields->is_object()) {
    for (const auto& [k, v] : extra_error_fields->items()) {
      if (k == "code" || k == "message") continue;
      out.push_back(',');
      append_json_string(out, k);
      out.push_back(':');
      append_dump(out, v);
    }
  }
  out += "}}\n";
  return out;
}

std::string ok_line(std::string_view id_raw, const Json& fields) {
  std::string out;
  append_id_prefix(out, id_raw, true);
  append_members(out, fields);
  out += "}\n";
  return out;
}

std::string ok_line_raw(std::string_view id_raw, std::string_view members) {
  std::string out;
  out.reserve(32 + id_raw.size() + members.size());
  append_id_prefix(out, id_raw, true);
  if (!members.empty()) {
    out.push_back(',');
    out += members;
  }
  out += "}\n";
  return out;
}

Status parse_envelope(const JsonScan& scan, RequestEnvelope& out) {
  out.op.clear();
  out.id_raw = "null";
  if (scan.tokens().empty() || scan.at(0).type != TokType::kObject)
    return invalid_request("request must be a JSON object");
  const int64_t id = scan.find(0, "id");
  if (id >= 0) {
    const TokType t = scan.at(static_cast<uint32_t>(id)).type;
    // A string, an integer, a boolean or null, per kreek-protocol(7):
    // containers would make echoing costly, and a number a client's JSON
    // library cannot hold (1e999, 0.5) would be echoed back unmatched.
    int64_t number = 0;
    if (t == TokType::kObject || t == TokType::kArray ||
        (t == TokType::kNumber && !scan.get_int(static_cast<uint32_t>(id), number)))
      return invalid_request("\"id\" must be a string, an integer in int64 range, a boolean or null");
    out.id_raw = scan.raw(static_cast<uint32_t>(id));
  }
  const int64_t op = scan.find(0, "op");
  if (op < 0) return invalid_request("missing \"op\"");
  if (scan.at(static_cast<uint32_t>(op)).type != TokType::kString)
    return invalid_request("\"op\" must be a string");
  scan.append_string(static_cast<uint32_t>(op), out.op);
  return Status();
}

Status scan_request(std::string_view line, JsonScan& scan, RequestEnvelope& out,
                    const ScanLimits& limits) {
  out.op.clear();
  out.id_raw = "null";
  KREEK_RETURN_IF_ERROR(scan.scan(line, limits));  // "\r\n" is JSON whitespace
  return parse_envelope(scan, out);
}

std::string request_line(std::string_view op, int64_t id, const Json& fields) {
  std::string out = "{\"op\":";
  append_json_string(out, op);
  out += ",\"id\":";
  out += std::to_string(id);
  append_members(out, fields);
  out += "}\n";
  return out;
}

void append_produce_request(std::string& out, int64_t id, std::string_view topic,
                            std::optional<PartitionId> partition, int acks,
                            std::string_view records_json) {
  out += "{\"op\":\"produce\",\"id\":";
  out += std::to_string(id);
  out += ",\"topic\":";
  append_json_string(out, topic);
  if (partition) {
    out += ",\"partition\":";
    out += std::to_string(partition->value());
  }
  out += ",\"acks\":";
  out += std::to_string(acks);
  out += ",\"crc\":";
  out += std::to_string(crc32c::value(records_json));
  out += ",\"records\":";
  out += records_json;
  out += "}\n";
}

Result<Json> parse_response(std::string_view line) {
  Json j;
  try {
    j = Json::parse(line);
  } catch (const Json::exception& e) {
    return malformed("response", e.what());
  }
  if (!j.is_object()) return malformed("response", "not a JSON object");
  auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean()) return malformed("response", "no boolean \"ok\"");
  return j;
}

Status response_status(const Json& response) {
  if (!response.is_object()) return malformed("response", "not a JSON object");
  auto ok = response.find("ok");
  if (ok == response.end() || !ok->is_boolean()) return malformed("response", "no boolean \"ok\"");
  if (ok->get<bool>()) return Status();
  auto err = response.find("error");
  if (err == response.end()) return malformed("response", "\"ok\":false without \"error\"");
  return status_from_error_json(*err);
}

Status status_from_error_json(const Json& error) {
  if (!error.is_object()) return malformed("error", "not a JSON object");
  auto code_it = error.find("code");
  if (code_it == error.end() || !code_it->is_string()) return malformed("error", "no string \"code\"");
  const std::string& name = code_it->get_ref<const std::string&>();
  std::string message;
  auto msg_it = error.find("message");
  if (msg_it != error.end() && msg_it->is_string()) message = msg_it->get<std::string>();
  Code code = code_from_name(name);
  if (code == Code::kOk || (code == Code::kInternal && name != "INTERNAL")) {
    // A code this client does not know (a newer broker): keep its name visible.
    code = Code::kInternal;
    message += " (broker error code " + name + ")";
  }
  return Status(code, std::move(message));
}

Result<std::vector<FetchPart>> parse_fetch_header(const Json& response) {
  KREEK_RETURN_IF_ERROR(response_status(response));
  auto parts_it = response.find("parts");
  if (parts_it == response.end() || !parts_it->is_array())
    return malformed("fetch response", "no \"parts\" array");
  std::vector<FetchPart> parts;
  parts.reserve(parts_it->size());
  for (const Json& p : *parts_it) {
    if (!p.is_object()) return malformed("fetch response", "part is not an object");
    FetchPart part;
    auto topic = p.find("topic");
    if (topic == p.end() || !topic->is_string()) return malformed("fetch response", "part without \"topic\"");
    part.topic = topic->get<std::string>();
    auto partition = json_member_int(p, "partition", 0, std::numeric_limits<int32_t>::max());
    if (!partition) return malformed("fetch response", "part without \"partition\"");
    part.partition = static_cast<int32_t>(*partition);
    auto err = p.find("error");
    if (err != p.end()) {
      part.error = status_from_error_json(*err);
      if (part.error.is_ok() || part.error.code() == Code::kProtocol) return part.error;
      part.error_json = *err;
    }
    const bool has_error = !part.error.is_ok();
    auto bytes = json_member_int(p, "bytes");
    if ((!bytes && !has_error) || (bytes && *bytes < 0))
      return malformed("fetch response", "part without \"bytes\"");
    part.bytes = bytes.value_or(0);
    auto hw = json_member_int(p, "hw");
    auto log_start = json_member_int(p, "log_start");
    if (!has_error && (!hw || !log_start))
      return malformed("fetch response", "part without \"hw\" or \"log_start\"");
    part.hw = hw.value_or(-1);
    part.log_start = log_start.value_or(-1);
    if (p.contains("next")) {
      auto next = json_member_int(p, "next", 0);
      if (!next || part.bytes != 0) return malformed("fetch response", "part with a bad \"next\"");
      part.next = *next;
    }
    parts.push_back(std::move(part));
  }
  return parts;
}

}  // namespace kreek::proto
