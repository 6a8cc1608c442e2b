// The auth hello on outbound links; see link_auth.h.
#include "broker/link_auth.h"

#include "proto/auth_token.h"
#include "proto/message.h"

namespace kreek::broker {

void send_auth_hello(net::RpcClient& rpc, const std::string& token,
                     std::function<void(Status)> on_refused) {
  if (token.empty()) return;
  std::string peer = rpc.peer();
  Status s = rpc.call(proto::auth_hello_request(token),
                      [peer, on_refused = std::move(on_refused)](Result<std::string_view> line) {
                        if (!line.is_ok()) return;  // the link failed: its owner hears of it
                        auto answer = proto::parse_response(*line);
                        if (!answer.is_ok()) return;
                        Status st = proto::response_status(*answer);
                        if (st.code() == Code::kUnauthorized && on_refused)
                          on_refused(Status(Code::kUnauthorized,
                                            peer + " refused this broker's auth token: " + st.message()));
                      });
  (void)s;  // a link that is already closed reports that itself
}

}  // namespace kreek::broker
