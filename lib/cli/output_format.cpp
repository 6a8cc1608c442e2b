// Record rendering for kconsume. Runs once per record on the consume hot path:
// everything appends into the caller's buffer; nothing allocates in steady state.
#include "cli/output_format.h"

#include <charconv>

#include "proto/json_scan.h"
#include "proto/record.h"

namespace kreek::cli {
namespace {

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

// "name":"text" or "name64":"base64" or "name":null.
void append_bytes_member(std::string& out, std::string_view name, const std::optional<std::string>& v) {
  out.push_back('"');
  out.append(name);
  if (!v) {
    out.append("\":null");
    return;
  }
  if (proto::is_valid_utf8(*v)) {
    out.append("\":");
    proto::append_json_string(out, *v);
  } else {
    out.append("64\":\"");
    out.append(proto::base64_encode(*v));
    out.push_back('"');
  }
}

}  // namespace

void append_json_envelope(std::string& out, const client::ConsumedRecord& r) {
  const proto::Record& rec = *r.record;
  out.append("{\"topic\":");
  proto::append_json_string(out, r.topic);
  out.append(",\"partition\":");
  append_int(out, r.partition);
  out.append(",\"offset\":");
  append_int(out, r.offset);
  out.append(",\"timestamp\":");
  append_int(out, r.timestamp);
  out.push_back(',');
  append_bytes_member(out, "key", rec.key);
  out.push_back(',');
  append_bytes_member(out, "value", rec.value);
  out.append(",\"headers\":{");
  bool first = true;
  for (const auto& [k, v] : rec.headers) {
    if (!first) out.push_back(',');
    first = false;
    proto::append_json_string(out, k);
    out.push_back(':');
    proto::append_json_string(out, v);
  }
  out.append("}}");
}

RecordFormatter RecordFormatter::value_only() { return RecordFormatter(); }

RecordFormatter RecordFormatter::json() {
  RecordFormatter f;
  f.mode_ = Mode::kJson;
  return f;
}

Result<RecordFormatter> RecordFormatter::from_format(std::string_view format) {
  RecordFormatter f;
  f.mode_ = Mode::kFormat;
  std::string lit;
  auto flush = [&] {
    if (!lit.empty()) f.pieces_.push_back(Piece{Kind::kLiteral, std::move(lit)});
    lit.clear();
  };
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c == '\\' && i + 1 < format.size()) {
      char e = format[++i];
      switch (e) {
        case 'n': lit.push_back('\n'); break;
        case 't': lit.push_back('\t'); break;
        case '\\': lit.push_back('\\'); break;
        default:  // not an escape we know: keep it as written
          lit.push_back('\\');
          lit.push_back(e);
      }
      continue;
    }
    if (c != '%') {
      lit.push_back(c);
      continue;
    }
    if (i + 1 >= format.size()) return invalid_request("format ends with a lone %");
    char d = format[++i];
    Kind k;
    switch (d) {
      case '%': lit.push_back('%'); continue;
      case 't': k = Kind::kTopic; break;
      case 'p': k = Kind::kPartition; break;
      case 'o': k = Kind::kOffset; break;
      case 'k': k = Kind::kKey; break;
      case 'v': k = Kind::kValue; break;
      case 'T': k = Kind::kTimestamp; break;
      case 'h': k = Kind::kHeaders; break;
      default:
        return invalid_request(std::string("unknown format directive %") + d +
                               " (use %t %p %o %k %v %T %h %%)");
    }
    flush();
    f.pieces_.push_back(Piece{k, {}});
  }
  flush();
  return f;
}

void RecordFormatter::append(std::string& out, const client::ConsumedRecord& r) const {
  const proto::Record& rec = *r.record;
  switch (mode_) {
    case Mode::kValue:
      out.append(rec.value ? *rec.value : null_text_);
      out.push_back('\n');
      return;
    case Mode::kJson:
      append_json_envelope(out, r);
      out.push_back('\n');
      return;
    case Mode::kFormat:
      break;
  }
  for (const Piece& p : pieces_) {
    switch (p.kind) {
      case Kind::kLiteral: out.append(p.literal); break;
      case Kind::kTopic: out.append(r.topic); break;
      case Kind::kPartition: append_int(out, r.partition); break;
      case Kind::kOffset: append_int(out, r.offset); break;
      case Kind::kKey: out.append(rec.key ? *rec.key : null_text_); break;
      case Kind::kValue: out.append(rec.value ? *rec.value : null_text_); break;
      case Kind::kTimestamp: append_int(out, r.timestamp); break;
      case Kind::kHeaders: {
        bool first = true;
        for (const auto& [k, v] : rec.headers) {
          if (!first) out.push_back(',');
          first = false;
          out.append(k);
          out.push_back('=');
          out.append(v);
        }
        break;
      }
    }
  }
}

}  // namespace kreek::cli
