// `hatctl search run`: HAT's search on this machine, without a server.
#ifndef HATFLEET_CLI_SEARCH_COMMANDS_H_
#define HATFLEET_CLI_SEARCH_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace hat::cli {

void AddSearchCommands(CLI::App& app, int* exit_code);

}  // namespace hat::cli

#endif  // HATFLEET_CLI_SEARCH_COMMANDS_H_
