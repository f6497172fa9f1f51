// `hatctl predictor fit|predict`: train and query latency predictors locally, no server needed.
#ifndef HATFLEET_CLI_PREDICTOR_COMMANDS_H_
#define HATFLEET_CLI_PREDICTOR_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace hat::cli {

void AddPredictorCommands(CLI::App& app, int* exit_code);

}  // namespace hat::cli

#endif  // HATFLEET_CLI_PREDICTOR_COMMANDS_H_
