// hatctl's commands that talk to hat-server: agents, jobs, dataset.
#ifndef HATFLEET_CLI_REMOTE_COMMANDS_H_
#define HATFLEET_CLI_REMOTE_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace hat::cli {

void AddRemoteCommands(CLI::App& app, int* exit_code);

}  // namespace hat::cli

#endif  // HATFLEET_CLI_REMOTE_COMMANDS_H_
