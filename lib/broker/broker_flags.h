// kbroker's command-line flags (CLI11), kept in the library so cmd/kbroker's
// main stays a thin shell and the man page, --help and tests see one list.
#pragma once

#include <CLI/CLI.hpp>

#include "broker/broker.h"

namespace kreek::broker {

// Adds every kbroker flag to `app`, writing into `config` (which must outlive
// app.parse()). Kafka's "-1 means never" is accepted for the retention and
// flush limits. Also sets --version's text: "kbroker (kreek) 0.1.0".
void add_broker_flags(CLI::App& app, BrokerConfig& config);

}  // namespace kreek::broker
