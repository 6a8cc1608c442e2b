// The broker's outbound links (to kzk-lite, and a follower's fetches from its
// leader) open with the auth hello when the broker has a token, as clients do.
// Requests are answered in order, so calls made right after it wait behind it;
// a refused hello means the peer closes the link, and those calls fail.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"
#include "net/rpc_client.h"

namespace kreek::broker {

// Sends the hello carrying `token` as `rpc`'s next call (nothing when `token`
// is empty). `on_refused` gets UNAUTHORIZED when the peer refuses the token;
// it runs from `rpc`'s callback, so it may destroy `rpc`.
void send_auth_hello(net::RpcClient& rpc, const std::string& token,
                     std::function<void(Status)> on_refused);

}  // namespace kreek::broker
