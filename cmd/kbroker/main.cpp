// kbroker: a kreek broker. Parses flags into a BrokerConfig and runs it; the
// exit code comes from broker::run (0 clean shutdown, 69 cannot bind, 73/74
// data directory problems, 130 on a second SIGINT).
#include <signal.h>

#include <cstdio>

#include <CLI/CLI.hpp>

#include "broker/broker.h"
#include "broker/broker_flags.h"

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  CLI::App app{"kbroker: serve kreek topics over JSON lines on TCP", "kbroker"};
  kreek::broker::BrokerConfig config;
  kreek::broker::add_broker_flags(app, config);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version: stdout, exit 0
    std::fprintf(stderr, "kbroker: error: %s\ntry 'kbroker --help'\n", e.what());
    return kreek::broker::kExitUsage;
  }
  return kreek::broker::run(config);
}
