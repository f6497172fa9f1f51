// `hatctl config ...`: validate SubTransformer configs and compute their features and cost.
#ifndef HATFLEET_CLI_CONFIG_COMMANDS_H_
#define HATFLEET_CLI_CONFIG_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace hat::cli {

// Adds the `config` command group to `app`; the chosen command stores its exit code in *exit_code.
void AddConfigCommands(CLI::App& app, int* exit_code);

}  // namespace hat::cli

#endif  // HATFLEET_CLI_CONFIG_COMMANDS_H_
