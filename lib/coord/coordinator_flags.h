// kzk-lite's command-line flags (CLI11), kept in the library so cmd/kzk-lite's
// main stays a thin shell and the man page, --help and tests see one list.
#pragma once

#include <CLI/CLI.hpp>

#include "coord/coordinator.h"

namespace kreek::coord {

// Adds every kzk-lite flag to `app`, writing into `config` (which must outlive
// app.parse()). Also sets --version's text: "kzk-lite (kreek) 0.1.0".
void add_coordinator_flags(CLI::App& app, CoordinatorConfig& config);

// --umask MODE (octal, 000 to 777) into `umask`; kbroker takes the same flag.
// `help` says whose files it governs.
void add_umask_flag(CLI::App& app, int& umask, const std::string& help);

}  // namespace kreek::coord
