// Shared plumbing of the command-line tools: the common flags (-b, -v, -q),
// diagnostics ("kconsume: error: ..."), usage errors and exit codes, signal
// setup, and run_main() which ties them together around a tool's body.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "client/cluster.h"

namespace kreek::cli {

struct CommonOptions {
  std::string brokers;  // -b; falls back to $KREEK_BROKERS, then 127.0.0.1:9092
  std::string auth_token_file;  // --auth-token-file; falls back to $KREEK_AUTH_TOKEN_FILE
  std::string tls_ca_file;      // --tls-ca (turns TLS on); falls back to $KREEK_TLS_CA_FILE
  bool verbose = false;
  bool quiet = false;
};

// Adds -b/--brokers (with the KREEK_BROKERS fallback), --auth-token-file,
// --tls-ca, -v/--verbose, -q/--quiet.
void add_common_flags(CLI::App& app, CommonOptions& options);
// Client options from the common flags; also reads the auth token file and
// hands the token to client::set_auth_token, and builds the TLS context from
// the CA file for client::set_tls_context. Errors: a usage error for a bad
// -b list; load_auth_token's for an unusable token file; TlsContext's for an
// unusable CA file.
Result<client::ClientOptions> client_options(const CommonOptions& options);
// A cluster bootstrapped from the common flags. Errors: a usage error for a bad -b list, UNAVAILABLE when no
// broker answers.
Result<std::unique_ptr<client::Cluster>> connect(const CommonOptions& options);

// The flags kproduce and kconsume share, so both spell and check them alike.
// -t/--topic TOPIC (required); `help` says what the tool does with it.
void add_topic_flag(CLI::App& app, std::string& topic, const std::string& help);
// Checks a topic name against Kafka's rule at parse time (for -t and ktopic's NAME).
const CLI::Validator& topic_name_check();
// -p/--partition N; a negative N is a parse error.
void add_partition_flag(CLI::App& app, std::optional<int32_t>& partition, const std::string& help);

// Parses argv for `tool` (shown in usage as that name, never argv[0]'s path).
// Returns the exit code when the program should stop here: 0 after --help or
// --version (printed to stdout); 64 after a usage error (one line plus
// "try '<tool> --help'" on stderr). nullopt when parsing succeeded.
std::optional<int> parse_command_line(const char* tool, CLI::App& app, int argc, char** argv);

// Parses argv, runs `body`, reports its Status and returns the exit code:
//   --help/--version -> stdout, 0;  parse error -> one line + "try", 64;
//   body OK -> 0; body error -> "<tool>: error: <message> (<CODE>)", exit_code(code).
// Also ignores SIGPIPE and installs the SIGINT/SIGTERM stop handlers.
int run_main(const char* tool, CLI::App& app, int argc, char** argv,
             const std::function<Status()>& body);

// Diagnostics on stderr, prefixed with the tool name. info needs -v; warn is
// dropped by -q; errors always print.
void set_verbosity(bool verbose, bool quiet);
void info(std::string_view message);
void warn(std::string_view message);
// "<tool>: <message>" without a level, for the state changes of a long run
// ("kproduce: waiting for broker ...", "kproduce: delivering again"); -q drops it.
void notice(std::string_view message);
void error(std::string_view message);
// "<tool>: error: <message> (<CODE>)"; system-side failures (cannot connect,
// file errors) omit the code, since their message already says what happened.
void report(const Status& status);
const char* tool_name();

// A usage error found after parsing (conflicting flags): reported like a
// parse error, with the "try '<tool> --help'" line, exit 64.
Status usage_error(std::string message);
// A local file the tool must create cannot be (its directory is missing or
// read-only): reported as one line, exit 73 (EX_CANTCREAT).
Status cant_create_error(std::string message);

// SIGINT/SIGTERM: the first sets client::request_stop(); a second SIGINT
// exits 130 at once. SIGPIPE is ignored. Handlers do no real work.
void install_signal_handlers();

}  // namespace kreek::cli
