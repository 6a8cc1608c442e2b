// ktopic's command line: the common flags parse before and after a command,
// and topic names are checked before any broker is asked.
#include "cli/topic_command.h"

#include <doctest/doctest.h>

#include <string>

using namespace kreek;

namespace {

// Parses `line` as ktopic's arguments; returns the config (throws CLI errors).
cli::TopicConfig parse(const std::string& line) {
  CLI::App app{"ktopic", "ktopic"};
  cli::TopicConfig c;
  cli::add_common_flags(app, c.common);
  cli::add_topic_commands(app, c);
  app.parse(line);
  return c;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("ktopic takes the common flags before or after its command") {
    for (const char* line : {"-b h:1 -v describe orders", "describe orders -b h:1 -v",
                             "describe -b h:1 orders -v", "-v describe --brokers=h:1 orders"}) {
      CAPTURE(line);
      cli::TopicConfig c = parse(line);
      CHECK(c.action == "describe");
      CHECK(c.name == "orders");
      CHECK(c.common.brokers == "h:1");
      CHECK(c.common.verbose);
    }
    cli::TopicConfig c = parse("create logs -p 3 -b h:2 -c retention.ms=1 -q");
    CHECK(c.action == "create");
    CHECK(c.partitions == 3);
    CHECK(c.common.brokers == "h:2");
    CHECK(c.common.quiet);
    CHECK(c.configs.size() == 1);
  }

  TEST_CASE("ktopic rejects a bad topic name and stray words while parsing") {
    CHECK_THROWS_AS(parse("describe bad/name"), CLI::ValidationError);
    CHECK_THROWS_AS(parse("create .."), CLI::ValidationError);
    CHECK_THROWS_AS(parse("list extra"), CLI::ExtrasError);
    CHECK_NOTHROW(parse(std::string("create ") + std::string(249, 'x')));
    CHECK_THROWS(parse(std::string("create ") + std::string(250, 'x')));
  }
}
