// `hatctl measure`: measure SubTransformer latency on this machine, no server needed.
#ifndef HATFLEET_CLI_MEASURE_COMMAND_H_
#define HATFLEET_CLI_MEASURE_COMMAND_H_

#include <CLI/CLI.hpp>

namespace hat::cli {

void AddMeasureCommand(CLI::App& app, int* exit_code);

}  // namespace hat::cli

#endif  // HATFLEET_CLI_MEASURE_COMMAND_H_
