// kconsume: print a kreek topic's records, like cat (default) or tail -f (-f).
// Flags -> ConsumeConfig -> cli::run_consume; run_main maps the Status to an exit code.
#include "cli/common.h"
#include "cli/consume_command.h"

int main(int argc, char** argv) {
  CLI::App app{"kconsume: print the records of a kreek topic"};
  kreek::cli::ConsumeConfig cfg;
  kreek::cli::add_common_flags(app, cfg.common);
  kreek::cli::add_consume_flags(app, cfg);
  return kreek::cli::run_main("kconsume", app, argc, argv, [&] { return kreek::cli::run_consume(cfg); });
}
