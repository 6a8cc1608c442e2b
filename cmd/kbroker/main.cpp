// kbroker: a kreek broker. Parses flags into a BrokerConfig and runs it; the
// exit code comes from broker::run (0 clean shutdown, 69 cannot bind, 73/74
// data directory problems, 130 on a second SIGINT). Usage errors and
// --help/--version behave as in the other tools (cli::parse_command_line).
#include <signal.h>

#include <CLI/CLI.hpp>

#include "broker/broker.h"
#include "broker/broker_flags.h"
#include "cli/common.h"

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  CLI::App app{"kbroker: serve kreek topics over JSON lines on TCP", "kbroker"};
  kreek::broker::BrokerConfig config;
  kreek::broker::add_broker_flags(app, config);
  if (auto rc = kreek::cli::parse_command_line("kbroker", app, argc, argv)) return *rc;
  return kreek::broker::run(config);
}
