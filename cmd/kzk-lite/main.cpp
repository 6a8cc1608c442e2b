// kzk-lite: the kreek cluster's coordinator. Parses flags into a
// CoordinatorConfig and runs it; the exit code comes from coord::run (0 clean
// shutdown, 64 bad address, 69 cannot bind, 74 metadata log problems).
#include <signal.h>

#include <CLI/CLI.hpp>

#include "cli/common.h"
#include "coord/coordinator.h"
#include "coord/coordinator_flags.h"

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  CLI::App app{"kzk-lite: the kreek cluster's coordinator (brokers, topics, leaders)", "kzk-lite"};
  kreek::coord::CoordinatorConfig config;
  kreek::coord::add_coordinator_flags(app, config);
  if (auto rc = kreek::cli::parse_command_line("kzk-lite", app, argc, argv)) return *rc;
  return kreek::coord::run(config);
}
