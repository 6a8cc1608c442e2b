// The storage module's face: the partition log engine. Depends on base (and
// nlohmann/json for its small metadata files) — no libuv — so it tests on its own.
#pragma once

#include "base/topic_name.h"
#include "storage/batch_format.h"
#include "storage/file.h"
#include "storage/log_config.h"
#include "storage/log_manager.h"
#include "storage/partition_log.h"
