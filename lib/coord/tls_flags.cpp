// The servers' TLS flags, file loading and plain-text refusal; see tls_flags.h.
#include "coord/tls_flags.h"

#include "proto/message.h"

namespace kreek::coord {

void add_tls_server_flags(CLI::App& app, std::string& cert_file, std::string& key_file) {
  auto* cert = app.add_option("--tls-cert", cert_file,
                              "listen with TLS, presenting the certificate chain in FILE (PEM); needs --tls-key")
                   ->type_name("FILE");
  auto* key = app.add_option("--tls-key", key_file, "the private key of --tls-cert, in FILE (PEM, mode 0600)")
                  ->type_name("FILE");
  cert->needs(key);
  key->needs(cert);
}

Result<std::shared_ptr<const net::TlsContext>> load_tls_server(const std::string& cert_file,
                                                               const std::string& key_file) {
  if (cert_file.empty() && key_file.empty()) return std::shared_ptr<const net::TlsContext>();
  if (cert_file.empty() || key_file.empty()) return invalid_request("--tls-cert and --tls-key go together");
  return net::TlsContext::for_server(cert_file, key_file);
}

std::string tls_required_line() {
  return proto::error_line("null", Status(Code::kUnauthorized, "this server requires TLS: connect with --tls-ca FILE"));
}

}  // namespace kreek::coord
