// The base module's face: status and errors, strong ids, checksums, logging, clocks,
// the topic name rule and atomic small-file writes.
// Everything else in kreek depends on this; it depends on the standard library only.
#pragma once

#include "base/atomic_file.h"
#include "base/clock.h"
#include "base/crc32c.h"
#include "base/log.h"
#include "base/random_id.h"
#include "base/status.h"
#include "base/strong_id.h"
#include "base/topic_name.h"

// Always-on check for invariants whose breach would corrupt data. Never used on
// bytes from disk or the network: those get a Status.
#define KREEK_CHECK(cond)                                                      \
  do {                                                                         \
    if (!(cond)) ::kreek::check_failed(#cond, __FILE__, __LINE__);             \
  } while (0)

namespace kreek {
[[noreturn]] void check_failed(const char* cond, const char* file, int line);
}
