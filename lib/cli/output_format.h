// How kconsume prints a record: the bare value (default), a JSON envelope
// (--json, read back by kproduce --json), or a --format string with %t %p %o
// %k %v %T %h %% and the escapes \n \t \\. Like kcat -f, a format string gets
// no newline appended: write "\n" where you want one.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "client/consumer.h"

namespace kreek::cli {

class RecordFormatter {
 public:
  static RecordFormatter value_only();
  static RecordFormatter json();
  // Errors: kInvalidRequest naming an unknown directive ("unknown format directive %x").
  static Result<RecordFormatter> from_format(std::string_view format);

  // What a null key or value prints as in the bare-value and --format output
  // (kconsume --null; kcat's -Z is --null NULL). Default: nothing, so a null
  // and an empty key look alike unless a placeholder is chosen.
  void set_null_text(std::string text) { null_text_ = std::move(text); }

  // Appends the rendering of `r` to `out`.
  void append(std::string& out, const client::ConsumedRecord& r) const;

 private:
  enum class Kind { kLiteral, kTopic, kPartition, kOffset, kKey, kValue, kTimestamp, kHeaders };
  struct Piece {
    Kind kind;
    std::string literal;
  };
  enum class Mode { kValue, kJson, kFormat };

  Mode mode_ = Mode::kValue;
  std::vector<Piece> pieces_;
  std::string null_text_;
};

// Appends `{"topic":..,"partition":..,"offset":..,"timestamp":..,"key":..,
// "value":..,"headers":{..}}` (key64/value64 for bytes that are not UTF-8).
void append_json_envelope(std::string& out, const client::ConsumedRecord& r);

}  // namespace kreek::cli
