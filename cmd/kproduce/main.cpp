// kproduce: write lines from files or stdin to a kreek topic, one record per line.
// Flags -> ProduceConfig -> cli::run_produce; exits 0 only if every record was acknowledged.
#include "cli/common.h"
#include "cli/produce_command.h"

int main(int argc, char** argv) {
  CLI::App app{"kproduce: write one record per input line to a kreek topic"};
  kreek::cli::ProduceConfig cfg;
  kreek::cli::add_common_flags(app, cfg.common);
  kreek::cli::add_produce_flags(app, cfg);
  return kreek::cli::run_main("kproduce", app, argc, argv, [&] { return kreek::cli::run_produce(cfg); });
}
