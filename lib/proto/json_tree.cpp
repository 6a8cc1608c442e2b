// Scan tokens -> nlohmann value; see json_tree.h. Objects with many keys are
// built with a hash of their keys: ordered_json's own key lookup is a linear
// search, which made a request with a million keys quadratic.
#include "proto/json_tree.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <unordered_map>

namespace kreek::proto {
namespace {

using json = nlohmann::ordered_json;

// Objects up to this many keys use ordered_json's linear lookup.
constexpr uint32_t kHashKeysAbove = 16;

Status number(std::string_view raw, json& out) {
  bool integral = raw.find_first_of(".eE") == std::string_view::npos;
  if (integral) {
    const char* b = raw.data();
    const char* e = raw.data() + raw.size();
    if (raw.front() == '-') {
      int64_t v = 0;
      auto r = std::from_chars(b, e, v);
      if (r.ec == std::errc() && r.ptr == e) {
        out = v;
        return Status::ok();
      }
    } else {
      uint64_t v = 0;
      auto r = std::from_chars(b, e, v);
      if (r.ec == std::errc() && r.ptr == e) {
        out = v;
        return Status::ok();
      }
    }
    // Too large for 64 bits: a double, as nlohmann does.
  }
  std::string text(raw);
  double d = std::strtod(text.c_str(), nullptr);
  if (!std::isfinite(d)) {
    std::string shown = raw.size() > 32 ? std::string(raw.substr(0, 32)) + "..." : text;
    return invalid_request("invalid JSON: number overflow parsing '" + shown + "'");
  }
  out = d;
  return Status::ok();
}

Status build(const JsonScan& s, uint32_t i, json& out) {
  const Token& t = s.at(i);
  switch (t.type) {
    case TokType::kNull:
      out = nullptr;
      return Status::ok();
    case TokType::kTrue:
      out = true;
      return Status::ok();
    case TokType::kFalse:
      out = false;
      return Status::ok();
    case TokType::kNumber:
      return number(s.raw(i), out);
    case TokType::kString: {
      std::string v;
      s.append_string(i, v);
      out = std::move(v);
      return Status::ok();
    }
    case TokType::kArray: {
      out = json::array();
      auto& arr = out.get_ref<json::array_t&>();
      arr.resize(t.size);
      uint32_t v = i + 1;
      for (uint32_t n = 0; n < t.size; ++n) {
        KREEK_RETURN_IF_ERROR(build(s, v, arr[n]));
        v = s.at(v).next;
      }
      return Status::ok();
    }
    case TokType::kObject: {
      out = json::object();
      auto& obj = out.get_ref<json::object_t&>();
      std::unordered_map<std::string, size_t> where;  // key -> place in obj, for big objects
      const bool hashed = t.size > kHashKeysAbove;
      if (hashed) {
        obj.reserve(t.size);
        where.reserve(t.size);
      }
      uint32_t k = i + 1;
      for (uint32_t n = 0; n < t.size; ++n) {
        std::string key;
        s.append_string(k, key);
        uint32_t v = k + 1;
        json value;
        KREEK_RETURN_IF_ERROR(build(s, v, value));
        if (!hashed) {
          obj[key] = std::move(value);  // a repeated key: the last value wins
        } else if (auto [it, fresh] = where.emplace(key, obj.size()); fresh) {
          obj.json::object_t::Container::emplace_back(std::move(key), std::move(value));
        } else {
          obj.json::object_t::Container::operator[](it->second).second = std::move(value);
        }
        k = s.at(v).next;
      }
      return Status::ok();
    }
  }
  return invalid_request("invalid JSON: unknown token");
}

}  // namespace

Result<json> to_json(const JsonScan& scan, uint32_t i) {
  if (i >= scan.tokens().size()) return invalid_request("invalid JSON: no value");
  json out;
  KREEK_RETURN_IF_ERROR(build(scan, i, out));
  return out;
}

}  // namespace kreek::proto
