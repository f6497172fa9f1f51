// hatctl's checkpoint commands (local): `checkpoint info` shows what a training checkpoint holds,
// `checkpoint average` averages checkpoints (fairseq's average_checkpoints), e.g. the last N of a
// run stopped before its end, which `--average-last` could not average.
#ifndef HATFLEET_CLI_CHECKPOINT_COMMANDS_H_
#define HATFLEET_CLI_CHECKPOINT_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace hat::cli {

void AddCheckpointCommands(CLI::App& app, int* exit_code);

}  // namespace hat::cli

#endif  // HATFLEET_CLI_CHECKPOINT_COMMANDS_H_
