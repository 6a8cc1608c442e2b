// kzk-lite flag definitions; see coordinator_flags.h.
#include "coord/coordinator_flags.h"

#include <cstdlib>

#include <limits>

#include "coord/tls_flags.h"

namespace kreek::coord {

void add_umask_flag(CLI::App& app, int& umask, const std::string& help) {
  app.add_option_function<std::string>(
         "--umask",
         [&umask](const std::string& v) {
           char* end = nullptr;
           long m = std::strtol(v.c_str(), &end, 8);
           if (v.empty() || *end != '\0' || m < 0 || m > 0777)
             throw CLI::ValidationError("--umask", "must be an octal mode from 000 to 777");
           umask = static_cast<int>(m);
         },
         help)
      ->type_name("MODE");
}

void add_coordinator_flags(CLI::App& app, CoordinatorConfig& c) {
  app.set_version_flag("--version", std::string("kzk-lite (kreek) ") + KREEK_VERSION,
                       "print the version and exit");
  app.add_option("--listen", c.listen, "address to listen on (port 0 picks a free port)")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  app.add_option("--data-dir", c.data_dir, "directory holding the metadata log and snapshots")
      ->type_name("DIR")
      ->capture_default_str();
  app.add_option("--session-timeout-ms", c.session_timeout_ms,
                 "fence a broker not heard from for this long, in ms")
      ->type_name("N")
      ->check(CLI::Range(int64_t{100}, int64_t{3'600'000}))
      ->capture_default_str();
  app.add_option("--heartbeat-interval-ms", c.heartbeat_interval_ms,
                 "how often brokers are told to heartbeat, in ms (below the session timeout)")
      ->type_name("N")
      ->check(CLI::Range(int64_t{10}, int64_t{600'000}))
      ->capture_default_str();
  app.add_option("--election-interval-ms", c.election_interval_ms,
                 "how often leaderless partitions and preferred leaders are checked, in ms")
      ->type_name("N")
      ->check(CLI::Range(int64_t{10}, int64_t{3'600'000}))
      ->capture_default_str();
  app.add_option("--snapshot-every", c.snapshot_every, "records between metadata snapshots")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30))
      ->capture_default_str();
  app.add_flag("--unclean-leader-election", c.unclean_leader_election,
               "cluster default for unclean.leader.election.enable (may lose committed records)");
  app.add_option("--auth-token-file", c.auth_token_file,
                 "require every connection to send the token in FILE (mode 0600) in a hello first "
                 "(default: $KREEK_AUTH_TOKEN_FILE)")
      ->type_name("FILE");
  add_tls_server_flags(app, c.tls_cert_file, c.tls_key_file);
  add_umask_flag(app, c.umask, "umask for the files and directories kzk-lite creates (default 077: private)");
  auto* verbose = app.add_flag_function(
      "-v,--verbose", [&c](int64_t) { c.log_level = log::Level::kDebug; }, "log debug lines too");
  auto* quiet = app.add_flag_function(
      "-q,--quiet", [&c](int64_t) { c.log_level = log::Level::kWarn; }, "log only warnings and errors");
  verbose->excludes(quiet);
  app.callback([&c] {
    if (c.heartbeat_interval_ms >= c.session_timeout_ms)
      throw CLI::ValidationError("--heartbeat-interval-ms", "must be below --session-timeout-ms");
  });
}

}  // namespace kreek::coord
