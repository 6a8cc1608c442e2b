// Field readers shared by the request handlers; see request_fields.h.
#include "proto/request_fields.h"

#include <limits>

#include "base/json_value.h"
#include "base/topic_name.h"
#include "proto/wire.h"

namespace kreek::proto {

using json = nlohmann::ordered_json;

std::string int_range_message(const char* field, int64_t min, int64_t max) {
  std::string m = "\"";
  m += field;
  if (min == 0 && max == std::numeric_limits<int64_t>::max()) {
    m += "\" must be a non-negative integer";
  } else if (max == std::numeric_limits<int64_t>::max()) {
    m += "\" must be an integer >= " + std::to_string(min);
  } else {
    m += "\" must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
  }
  return m;
}

Status read_int(const json& req, const char* field, int64_t min, int64_t max,
                std::optional<int64_t>& out) {
  out.reset();
  auto it = req.find(field);
  if (it == req.end() || it->is_null()) return Status::ok();
  out = json_int_in(*it, min, max);
  if (!out) return invalid_request(int_range_message(field, min, max));
  return Status::ok();
}

Status require_int(const json& req, const char* field, int64_t min, int64_t max, int64_t& out) {
  std::optional<int64_t> v;
  KREEK_RETURN_IF_ERROR(read_int(req, field, min, max, v));
  if (!v) return invalid_request(std::string("missing \"") + field + "\"");
  out = *v;
  return Status::ok();
}

Status read_bool(const json& req, const char* field, std::optional<bool>& out) {
  out.reset();
  auto it = req.find(field);
  if (it == req.end() || it->is_null()) return Status::ok();
  if (!it->is_boolean()) return invalid_request(std::string("\"") + field + "\" must be true or false");
  out = it->get<bool>();
  return Status::ok();
}

namespace {
Status check_topic_name(const std::string& name) {
  std::string why = topic_name_problem(name);
  if (!why.empty()) return invalid_request(std::move(why));
  return Status::ok();
}
}  // namespace

Status require_topic(const json& req, std::string& out) {
  auto it = req.find("topic");
  if (it == req.end() || it->is_null()) return invalid_request("missing \"topic\"");
  if (!it->is_string()) return invalid_request("\"topic\" must be a string");
  out = it->get<std::string>();
  return check_topic_name(out);
}

Status read_config(const json& req, bool allow_null, std::map<std::string, std::string>& out) {
  out.clear();
  auto it = req.find("config");
  if (it == req.end() || it->is_null()) return Status::ok();
  if (!it->is_object()) return invalid_request("\"config\" must be an object");
  for (const auto& [key, value] : it->items()) {
    if (value.is_string()) {
      out[key] = value.get<std::string>();
    } else if (value.is_number_integer() || value.is_number_unsigned()) {
      out[key] = value.dump();
    } else if (value.is_number_float()) {
      out[key] = value.dump();
    } else if (value.is_null() && allow_null) {
      out[key] = "";
    } else {
      return invalid_request("config \"" + key + "\" must be a string or a number" +
                             (allow_null ? " (or null to remove it)" : ""));
    }
  }
  return Status::ok();
}

Status scan_int(const proto::JsonScan& scan, uint32_t obj, const char* field, int64_t min,
                int64_t max, std::optional<int64_t>& out) {
  out.reset();
  int64_t i = scan.find(obj, field);
  if (i < 0 || scan.at(static_cast<uint32_t>(i)).type == proto::TokType::kNull) return Status::ok();
  int64_t v = 0;
  if (scan.at(static_cast<uint32_t>(i)).type != proto::TokType::kNumber ||
      !scan.get_int(static_cast<uint32_t>(i), v) || v < min || v > max)
    return invalid_request(int_range_message(field, min, max));
  out = v;
  return Status::ok();
}

Status scan_topic(const proto::JsonScan& scan, uint32_t obj, std::string& out) {
  int64_t i = scan.find(obj, "topic");
  if (i < 0 || scan.at(static_cast<uint32_t>(i)).type == proto::TokType::kNull)
    return invalid_request("missing \"topic\"");
  if (scan.at(static_cast<uint32_t>(i)).type != proto::TokType::kString)
    return invalid_request("\"topic\" must be a string");
  out.clear();
  scan.append_string(static_cast<uint32_t>(i), out);
  return check_topic_name(out);
}

}  // namespace kreek::proto
