// The group module's face: consumer groups' pure decisions — members,
// generations and the rebalance protocol (group_state), who reads which
// partition (assignor), and how a group's state is stored in the internal
// offsets topic (offset_records). No clock, no I/O: the broker's
// GroupCoordinator drives them, and so does the seeded simulation in
// group_sim_test.cpp.
#pragma once

#include "group/assignor.h"
#include "group/group_state.h"
#include "group/offset_records.h"
