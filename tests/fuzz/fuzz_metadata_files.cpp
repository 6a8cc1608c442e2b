// libFuzzer target: the coordinator's metadata files — a metadata.log line
// (decode_log_line, which checks the CRC and then reads the record) and a
// snapshot (MetadataImage::from_json), plus a record's JSON without the CRC
// gate (record_from_json), so the parsers behind the checksum are reached.
// The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "coord/metadata_image.h"
#include "coord/metadata_log.h"
#include "coord/metadata_records.h"
#include "fuzz_util.h"

using namespace kreek;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      (void)coord::decode_log_line(text);
      break;
    case 1:
    case 2: {
      auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) break;
      if (data[0] % 3 == 1) {
        auto image = coord::MetadataImage::from_json(j);
        if (image.is_ok()) (void)image->to_json();
      } else {
        auto rec = coord::record_from_json(j);
        if (rec.is_ok()) {
          coord::MetadataImage image;
          (void)image.apply(0, *rec);
        }
      }
      break;
    }
  }
  return 0;
}
