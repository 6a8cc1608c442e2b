// The proto module's face: the JSON-line wire protocol (kreek-protocol(7)).
// Scanner, records, partitioner, wire constants, protocol lines and batch
// decoding; depends on base and nlohmann/json only.
#pragma once

#include "proto/batch_decoder.h"
#include "proto/json_scan.h"
#include "proto/message.h"
#include "proto/partitioner.h"
#include "proto/record.h"
#include "proto/request_fields.h"
#include "proto/wire.h"
