// `hatctl artifacts list|download`, `hatctl supernet upload`: the files the server keeps, named
// by id, moved both ways with their SHA-256 checked.
#ifndef HATFLEET_CLI_ARTIFACT_COMMANDS_H_
#define HATFLEET_CLI_ARTIFACT_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace hat::cli {

// After AddNmtCommands: adds `upload` to `supernet`.
void AddArtifactCommands(CLI::App& app, int* exit_code);

}  // namespace hat::cli

#endif  // HATFLEET_CLI_ARTIFACT_COMMANDS_H_
