// notify_service_manager(): sd_notify(3) without libsystemd. Under systemd
// with Type=notify, $NOTIFY_SOCKET names a Unix datagram socket (a path, or
// an abstract name written with a leading '@'); a service sends it
// "READY=1" once it serves, "STOPPING=1" when it begins to shut down, and
// "STATUS=..." lines for `systemctl status`. Without $NOTIFY_SOCKET it does
// nothing, so the same binary runs anywhere.
#pragma once

#include <string_view>

#include "base/status.h"

namespace kreek::net {

// Sends `state` ("READY=1\nSTATUS=listening on 127.0.0.1:9092") as one
// datagram. OK when $NOTIFY_SOCKET is unset; kInvalidRequest when it is
// malformed, kIoError when the send fails (the caller logs and goes on:
// systemd then reports the start as timed out, which says enough).
Status notify_service_manager(std::string_view state);

}  // namespace kreek::net
