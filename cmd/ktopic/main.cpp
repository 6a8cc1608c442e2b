// ktopic: create, list, describe, delete and alter kreek topics.
// Flags -> TopicConfig -> cli::run_topic; run_main maps the Status to an exit code.
#include "cli/common.h"
#include "cli/topic_command.h"

int main(int argc, char** argv) {
  CLI::App app{"ktopic: manage kreek topics"};
  kreek::cli::TopicConfig cfg;
  kreek::cli::add_common_flags(app, cfg.common);
  kreek::cli::add_topic_commands(app, cfg);
  return kreek::cli::run_main("ktopic", app, argc, argv, [&] { return kreek::cli::run_topic(cfg); });
}
