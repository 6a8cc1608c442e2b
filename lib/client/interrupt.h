// A process-wide stop request, set from a signal handler (SIGINT/SIGTERM in the
// CLI tools) and checked by the blocking client loops when poll() returns EINTR.
#pragma once

namespace kreek::client {

// Async-signal-safe: only stores to a lock-free atomic.
void request_stop();
bool stop_requested();
void clear_stop();

// Whether a stop request also aborts blocking socket waits ("interrupted").
// Consumers want that (SIGINT ends a long poll at once); the producer turns it
// off so it can still collect the acks of what it already sent. Default: on.
void set_stop_aborts_io(bool on);
bool stop_aborts_io();

}  // namespace kreek::client
