// Record <-> JSON: the canonical encoder producers use, the validator the broker
// runs on every produce, and the decoder consumers run on every fetched record.
// Base64 carries bytes that are not UTF-8 (key64/value64).
#include "proto/record.h"

#include <array>
#include <cstring>

namespace kreek::proto {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Decoding table: 0..63 for alphabet characters, 0xFF for everything else.
constexpr std::array<uint8_t, 256> make_b64_table() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = 0xFF;
  for (uint8_t i = 0; i < 64; ++i) t[static_cast<unsigned char>(kB64[i])] = i;
  return t;
}
constexpr auto kB64Table = make_b64_table();

// Validates base64 text and, if out != nullptr, appends the bytes it encodes.
bool b64_decode(std::string_view text, std::string* out) {
  const size_t n = text.size();
  if (n % 4 != 0) return false;
  if (n == 0) return true;
  size_t pad = 0;
  if (text[n - 1] == '=') pad = text[n - 2] == '=' ? 2 : 1;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  if (out) out->reserve(out->size() + n / 4 * 3);
  const size_t full = (pad ? n - 4 : n);
  for (size_t i = 0; i < full; i += 4) {
    const uint32_t a = kB64Table[s[i]], b = kB64Table[s[i + 1]], c = kB64Table[s[i + 2]],
                   d = kB64Table[s[i + 3]];
    if ((a | b | c | d) & 0x80) return false;
    const uint32_t v = a << 18 | b << 12 | c << 6 | d;
    if (out) {
      const char bytes[3] = {static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                             static_cast<char>(v)};
      out->append(bytes, 3);
    }
  }
  if (pad) {
    const unsigned char* q = s + n - 4;
    const uint32_t a = kB64Table[q[0]], b = kB64Table[q[1]];
    const uint32_t c = pad == 1 ? kB64Table[q[2]] : 0;
    if ((a | b | c) & 0x80) return false;
    // Canonical form: the bits past the last whole byte must be zero.
    if (pad == 2 && (b & 0x0F) != 0) return false;
    if (pad == 1 && (c & 0x03) != 0) return false;
    const uint32_t v = a << 18 | b << 12 | c << 6;
    if (out) {
      out->push_back(static_cast<char>(v >> 16));
      if (pad == 1) out->push_back(static_cast<char>(v >> 8));
    }
  }
  return true;
}

enum class Field : uint8_t { kKey, kValue, kKey64, kValue64, kHeaders, kTs, kUnknown };

Field field_of(std::string_view name) {
  switch (name.size()) {
    case 2: return name == "ts" ? Field::kTs : Field::kUnknown;
    case 3: return name == "key" ? Field::kKey : Field::kUnknown;
    case 5: return name == "value" ? Field::kValue : name == "key64" ? Field::kKey64 : Field::kUnknown;
    case 7:
      return name == "value64" ? Field::kValue64 : name == "headers" ? Field::kHeaders : Field::kUnknown;
    default: return Field::kUnknown;
  }
}

// The field a key token names; `scratch` holds the unescaped name for the rare
// escaped key, and `name` views whichever form was used.
Field field_of_token(const JsonScan& scan, uint32_t key, std::string& scratch, std::string_view& name) {
  const Token& t = scan.at(key);
  if (!t.has_escapes) {
    name = scan.text().substr(t.start + 1, t.end - t.start - 2);
  } else {
    scratch.clear();
    scan.append_string(key, scratch);
    name = scratch;
  }
  return field_of(name);
}

// Contents of string token i without quotes (escapes still in place).
std::string_view body(const JsonScan& scan, uint32_t i) {
  const Token& t = scan.at(i);
  return scan.text().substr(t.start + 1, t.end - t.start - 2);
}

bool is_base64_string(const JsonScan& scan, uint32_t i) {
  if (!scan.at(i).has_escapes) return b64_decode(body(scan, i), nullptr);
  // Some encoders write '/' as "\/": unescape first (rare).
  return b64_decode(scan.get_string(i), nullptr);
}

void append_field_name(std::string& out, bool& first, std::string_view name) {
  if (!first) out.push_back(',');
  first = false;
  out.push_back('"');
  out.append(name);
  out.append("\":");
}

void append_bytes_field(std::string& out, bool& first, std::string_view text_name,
                        std::string_view b64_name, const std::string& bytes) {
  if (is_valid_utf8(bytes)) {
    append_field_name(out, first, text_name);
    append_json_string(out, bytes);
  } else {
    append_field_name(out, first, b64_name);
    out.push_back('"');
    out.append(base64_encode(bytes));
    out.push_back('"');
  }
}

std::string where(int32_t index, std::string_view field) {
  std::string m = "records[";
  m += std::to_string(index);
  m += ']';
  if (!field.empty()) {
    m += '.';
    m += field;
  }
  return m;
}

Status record_error(int32_t index, std::string_view field, std::string_view what) {
  std::string m = where(index, field);
  m += ": ";
  m += what;
  return invalid_request(std::move(m));
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = uint32_t{s[i]} << 16 | uint32_t{s[i + 1]} << 8 | s[i + 2];
    const char q[4] = {kB64[v >> 18], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], kB64[v & 63]};
    out.append(q, 4);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = uint32_t{s[i]} << 16;
    const char q[4] = {kB64[v >> 18], kB64[(v >> 12) & 63], '=', '='};
    out.append(q, 4);
  } else if (rest == 2) {
    const uint32_t v = uint32_t{s[i]} << 16 | uint32_t{s[i + 1]} << 8;
    const char q[4] = {kB64[v >> 18], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], '='};
    out.append(q, 4);
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  if (!b64_decode(text, &out)) return std::nullopt;
  return out;
}

bool base64_decode_append(std::string_view text, std::string& out) { return b64_decode(text, &out); }

void append_record_json(std::string& out, const Record& r) {
  bool first = true;
  out.push_back('{');
  if (r.key) append_bytes_field(out, first, "key", "key64", *r.key);
  if (r.value) append_bytes_field(out, first, "value", "value64", *r.value);
  if (!r.headers.empty()) {
    // Limitation: header names and values are text; invalid UTF-8 in them is
    // replaced by U+FFFD (append_json_string), as the wire has no headers64.
    append_field_name(out, first, "headers");
    out.push_back('{');
    for (size_t i = 0; i < r.headers.size(); ++i) {
      if (i) out.push_back(',');
      append_json_string(out, r.headers[i].first);
      out.push_back(':');
      append_json_string(out, r.headers[i].second);
    }
    out.push_back('}');
  }
  if (r.ts) {
    append_field_name(out, first, "ts");
    out.append(std::to_string(*r.ts));
  }
  out.push_back('}');
}

std::string encode_records(const std::vector<Record>& records) {
  std::string out;
  out.push_back('[');
  for (size_t i = 0; i < records.size(); ++i) {
    if (i) out.push_back(',');
    append_record_json(out, records[i]);
  }
  out.push_back(']');
  return out;
}

Result<int32_t> validate_records(const JsonScan& scan, uint32_t arr, int32_t max_records) {
  const Token& a = scan.at(arr);
  if (a.type != TokType::kArray) return invalid_request("records: expected array");
  if (a.size == 0) return invalid_request("records: must not be empty");
  if (a.size > static_cast<uint32_t>(max_records))
    return invalid_request("records: more than " + std::to_string(max_records) + " records");
  std::string scratch;
  uint32_t rec = arr + 1;
  for (int32_t index = 0; index < static_cast<int32_t>(a.size); ++index) {
    const Token& r = scan.at(rec);
    if (r.type != TokType::kObject) return record_error(index, "", "expected object");
    unsigned seen = 0;
    uint32_t k = rec + 1;
    for (uint32_t f = 0; f < r.size; ++f) {
      const uint32_t v = k + 1;
      std::string_view name;
      const Field field = field_of_token(scan, k, scratch, name);
      if (field == Field::kUnknown)
        return record_error(index, "", "unknown field \"" + std::string(name) + "\"");
      const unsigned bit = 1u << static_cast<unsigned>(field);
      if (seen & bit) return record_error(index, "", "duplicate field \"" + std::string(name) + "\"");
      seen |= bit;
      const TokType type = scan.at(v).type;
      switch (field) {
        case Field::kKey:
        case Field::kValue:
          if (type != TokType::kString && type != TokType::kNull)
            return record_error(index, name, "expected string or null");
          break;
        case Field::kKey64:
        case Field::kValue64:
          if (type != TokType::kString) return record_error(index, name, "expected base64 string");
          if (!is_base64_string(scan, v)) return record_error(index, name, "invalid base64");
          break;
        case Field::kHeaders: {
          if (type != TokType::kObject) return record_error(index, name, "expected object");
          const uint32_t nh = scan.at(v).size;
          for (uint32_t h = 0, hk = v + 1; h < nh; ++h, hk += 2) {
            // Header values are strings, so each pair is exactly two tokens.
            if (scan.at(hk + 1).type != TokType::kString)
              return record_error(index, "headers." + scan.get_string(hk), "expected string");
          }
          break;
        }
        case Field::kTs: {
          int64_t ts;
          if (type != TokType::kNumber || !scan.get_int(v, ts) || ts < 0)
            return record_error(index, name, "expected non-negative integer");
          break;
        }
        case Field::kUnknown: break;
      }
      k = scan.at(v).next;
    }
    constexpr unsigned kKeyBoth = 1u << unsigned(Field::kKey) | 1u << unsigned(Field::kKey64);
    constexpr unsigned kValueBoth = 1u << unsigned(Field::kValue) | 1u << unsigned(Field::kValue64);
    if ((seen & kKeyBoth) == kKeyBoth) return record_error(index, "", "both \"key\" and \"key64\" given");
    if ((seen & kValueBoth) == kValueBoth)
      return record_error(index, "", "both \"value\" and \"value64\" given");
    rec = r.next;
  }
  return static_cast<int32_t>(a.size);
}

Status decode_record(const JsonScan& scan, uint32_t obj, Record& out) {
  // Reuse the strings' buffers: keep an engaged optional and clear it.
  auto reuse = [](std::optional<std::string>& o) -> std::string& {
    if (o) {
      o->clear();
    } else {
      o.emplace();
    }
    return *o;
  };
  bool has_key = false, has_value = false;
  out.headers.clear();
  out.ts.reset();
  const Token& r = scan.at(obj);
  if (r.type != TokType::kObject) return corrupt("record: expected object");
  std::string scratch;
  uint32_t k = obj + 1;
  for (uint32_t f = 0; f < r.size; ++f) {
    const uint32_t v = k + 1;
    const Token& vt = scan.at(v);
    std::string_view name;
    switch (field_of_token(scan, k, scratch, name)) {
      case Field::kKey:
      case Field::kValue: {
        const bool is_key = name == "key";
        if (vt.type == TokType::kNull) break;
        if (vt.type != TokType::kString) return corrupt("record: " + std::string(name) + " is not a string");
        scan.append_string(v, reuse(is_key ? out.key : out.value));
        (is_key ? has_key : has_value) = true;
        break;
      }
      case Field::kKey64:
      case Field::kValue64: {
        const bool is_key = name == "key64";
        if (vt.type != TokType::kString) return corrupt("record: " + std::string(name) + " is not a string");
        std::string& dst = reuse(is_key ? out.key : out.value);
        const bool ok = vt.has_escapes ? base64_decode_append(scan.get_string(v), dst)
                                       : base64_decode_append(body(scan, v), dst);
        if (!ok) return corrupt("record: " + std::string(name) + " is not valid base64");
        (is_key ? has_key : has_value) = true;
        break;
      }
      case Field::kHeaders: {
        if (vt.type != TokType::kObject) return corrupt("record: headers is not an object");
        for (uint32_t h = 0, hk = v + 1; h < vt.size; ++h, hk += 2) {
          if (scan.at(hk + 1).type != TokType::kString) return corrupt("record: header value is not a string");
          auto& pair = out.headers.emplace_back();
          scan.append_string(hk, pair.first);
          scan.append_string(hk + 1, pair.second);
        }
        break;
      }
      case Field::kTs: {
        int64_t ts;
        if (!scan.get_int(v, ts) || ts < 0) return corrupt("record: ts is not a non-negative integer");
        out.ts = ts;
        break;
      }
      case Field::kUnknown: break;  // written by a newer producer: skip
    }
    k = vt.next;
  }
  if (!has_key) out.key.reset();
  if (!has_value) out.value.reset();
  return Status();
}

}  // namespace kreek::proto
