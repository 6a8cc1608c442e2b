// libFuzzer target: the small checkpoint files kreek reads back at start —
// kconsume --checkpoint, the leader epoch checkpoint and the producer
// snapshot of a partition — parsed from memory (fuzz_data_dir covers the
// data directory's own files). The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/checkpoint.h"
#include "fuzz_util.h"
#include "storage/leader_epoch_cache.h"
#include "storage/producer_state.h"

using namespace kreek;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto cp = cli::decode_checkpoint(text, "fuzz.checkpoint");
      if (cp.is_ok()) {
        // What it read must write back and read again the same.
        auto again = cli::decode_checkpoint(cli::encode_checkpoint(*cp), "fuzz.checkpoint");
        if (!again.is_ok() || again->offsets != cp->offsets || again->topic != cp->topic) abort();
      }
      break;
    }
    case 1:
      (void)storage::LeaderEpochCache::decode(text);
      break;
    case 2: {
      Offset at;
      auto ps = storage::ProducerState::decode_snapshot(text, &at);
      if (ps.is_ok()) (void)ps->encode_snapshot(at);
      break;
    }
  }
  return 0;
}
