// TLS on the servers (kbroker and kzk-lite): the --tls-cert/--tls-key flags,
// loading them, and the line a TLS listener sends a plain-text client. Shared
// (like add_umask_flag) so that both programs spell, load and refuse alike.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "net/tls.h"

namespace kreek::coord {

// --tls-cert FILE and --tls-key FILE, each needing the other.
void add_tls_server_flags(CLI::App& app, std::string& cert_file, std::string& key_file);

// The server context from the two files (null when neither is given).
// Errors: kInvalidRequest when only one is given; TlsContext::for_server's.
Result<std::shared_ptr<const net::TlsContext>> load_tls_server(const std::string& cert_file,
                                                               const std::string& key_file);

// The one plain-text error line (UNAUTHORIZED, id null, ending in '\n') a TLS
// listener sends before closing a client that spoke plain text to it, so the
// client says what is wrong instead of "connection closed".
std::string tls_required_line();

}  // namespace kreek::coord
