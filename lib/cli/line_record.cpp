// Line -> record conversion for kproduce. The plain modes run per line on the
// produce hot path and only assign into existing strings.
#include "cli/line_record.h"

namespace kreek::cli {
namespace {

void set(std::optional<std::string>& field, std::string_view v) {
  if (!field) field.emplace();
  field->assign(v.data(), v.size());
}

Status bad(std::string_view what) { return corrupt("invalid JSON record: " + std::string(what)); }

}  // namespace

LineRecordParser::LineRecordParser(LineFormat format) : format_(std::move(format)) {}

Status LineRecordParser::parse(std::string_view line, proto::Record& rec,
                               std::optional<int32_t>& partition) {
  partition.reset();
  if (format_.json) return parse_json(line, rec, partition);
  rec.ts.reset();
  if (rec.headers.size() != format_.headers.size()) rec.headers = format_.headers;
  if (format_.separator) {
    size_t at = line.find(*format_.separator);
    if (at == std::string_view::npos) {
      rec.key.reset();
      set(rec.value, line);
    } else {
      set(rec.key, line.substr(0, at));
      set(rec.value, line.substr(at + format_.separator->size()));
    }
    return Status::ok();
  }
  if (format_.key) {
    if (!rec.key || *rec.key != *format_.key) rec.key = format_.key;
  } else {
    rec.key.reset();
  }
  set(rec.value, line);
  return Status::ok();
}

Status LineRecordParser::parse_json(std::string_view line, proto::Record& rec,
                                    std::optional<int32_t>& partition) {
  rec.key.reset();
  rec.value.reset();
  rec.ts.reset();
  rec.headers = format_.headers;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  Status s = scan_.scan(line);
  if (!s.is_ok()) return bad(s.message());
  if (scan_.at(0).type != proto::TokType::kObject) return bad("not a JSON object");

  // Text or bytes: "key" (string/null) or "key64" (base64).
  auto bytes_field = [&](const char* name, const char* name64,
                         std::optional<std::string>& out) -> Status {
    int64_t t = scan_.find(0, name);
    int64_t t64 = scan_.find(0, name64);
    if (t >= 0 && t64 >= 0) return bad(std::string("both \"") + name + "\" and \"" + name64 + "\"");
    if (t >= 0) {
      auto type = scan_.at(static_cast<uint32_t>(t)).type;
      if (type == proto::TokType::kNull) return Status::ok();
      if (type != proto::TokType::kString) return bad(std::string("\"") + name + "\" must be a string or null");
      out.emplace();
      scan_.append_string(static_cast<uint32_t>(t), *out);
    } else if (t64 >= 0) {
      auto type = scan_.at(static_cast<uint32_t>(t64)).type;
      if (type == proto::TokType::kNull) return Status::ok();
      if (type != proto::TokType::kString) return bad(std::string("\"") + name64 + "\" must be a string");
      auto decoded = proto::base64_decode(scan_.get_string(static_cast<uint32_t>(t64)));
      if (!decoded) return bad(std::string("\"") + name64 + "\" is not valid base64");
      out = std::move(*decoded);
    }
    return Status::ok();
  };
  KREEK_RETURN_IF_ERROR(bytes_field("key", "key64", rec.key));
  KREEK_RETURN_IF_ERROR(bytes_field("value", "value64", rec.value));

  int64_t h = scan_.find(0, "headers");
  if (h >= 0 && scan_.at(static_cast<uint32_t>(h)).type != proto::TokType::kNull) {
    const proto::Token& obj = scan_.at(static_cast<uint32_t>(h));
    if (obj.type != proto::TokType::kObject) return bad("\"headers\" must be an object");
    uint32_t k = static_cast<uint32_t>(h) + 1;
    for (uint32_t i = 0; i < obj.size; ++i) {
      uint32_t v = k + 1;
      if (scan_.at(v).type != proto::TokType::kString) return bad("header values must be strings");
      std::string name = scan_.get_string(k);
      std::string value = scan_.get_string(v);
      bool replaced = false;
      for (auto& [hk, hv] : rec.headers)
        if (hk == name) {
          hv = value;
          replaced = true;
        }
      if (!replaced) rec.headers.emplace_back(std::move(name), std::move(value));
      k = scan_.at(v).next;
    }
  }
  // "timestamp" is what kconsume --json prints; "ts" is the wire name.
  for (const char* name : {"timestamp", "ts"}) {
    int64_t t = scan_.find(0, name);
    if (t < 0 || scan_.at(static_cast<uint32_t>(t)).type == proto::TokType::kNull) continue;
    int64_t v = 0;
    if (!scan_.get_int(static_cast<uint32_t>(t), v) || v < 0)
      return bad(std::string("\"") + name + "\" must be a non-negative integer");
    rec.ts = v;
    break;
  }
  int64_t p = scan_.find(0, "partition");
  if (p >= 0 && scan_.at(static_cast<uint32_t>(p)).type != proto::TokType::kNull) {
    int64_t v = 0;
    if (!scan_.get_int(static_cast<uint32_t>(p), v) || v < 0 || v > INT32_MAX)
      return bad("\"partition\" must be a non-negative integer");
    partition = static_cast<int32_t>(v);
  }
  return Status::ok();
}

}  // namespace kreek::cli
