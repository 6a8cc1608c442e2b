// The repl module's face: replication's pure decisions — a leader's view of
// its followers, the high watermark and the ISR changes to propose, and where
// a follower truncates by leader epoch. No clock, no I/O: the broker
// (lib/broker/replica_manager, replica_fetcher) drives them, and so does the
// seeded simulation in replication_sim_test.cpp. Design: lib/coord/README.md.
#pragma once

#include "repl/leader_state.h"
#include "repl/truncation.h"
