// `hatctl space ...`: inspect design spaces and sample SubTransformers from them.
#ifndef HATFLEET_CLI_SPACE_COMMANDS_H_
#define HATFLEET_CLI_SPACE_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace hat::cli {

// Adds the `space` command group to `app`; the chosen command stores its exit code in *exit_code.
void AddSpaceCommands(CLI::App& app, int* exit_code);

}  // namespace hat::cli

#endif  // HATFLEET_CLI_SPACE_COMMANDS_H_
