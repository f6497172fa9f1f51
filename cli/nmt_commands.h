// hatctl's translation-task commands (local, no server): `data prepare`, `supernet train`,
// `subnet train|eval`, `translate`, `bleu`.
#ifndef HATFLEET_CLI_NMT_COMMANDS_H_
#define HATFLEET_CLI_NMT_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace hat::cli {

void AddNmtCommands(CLI::App& app, int* exit_code);

}  // namespace hat::cli

#endif  // HATFLEET_CLI_NMT_COMMANDS_H_
