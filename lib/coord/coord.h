// The coord module's face: the cluster metadata (records, image, state
// machine), the controller's decisions, replica placement, broker sessions and
// the durable metadata log. See lib/coord/README.md for the design.
#pragma once

#include "coord/controller.h"
#include "coord/metadata_image.h"
#include "coord/metadata_log.h"
#include "coord/metadata_records.h"
#include "coord/placement.h"
#include "coord/session_tracker.h"
