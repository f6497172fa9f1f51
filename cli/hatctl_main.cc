// hatctl: the hatfleet command-line client.
//
// Local commands (no server): `space list|show|sample`, `config validate|features|convert`,
// `measure`, `predictor fit|predict`, `data prepare`, `supernet train`, `subnet train|eval`,
// `translate`, `bleu`, `checkpoint info|average`. Remote (hat-server): `agents list`,
// `jobs submit|list|get|watch|cancel`, `dataset export`.
// Every command takes --json for output that scripts read. Exit codes: 0 ok, 1 failure (the
// message on stderr says what and where), 2 bad command line.
#include <CLI/CLI.hpp>

#include "cli/artifact_commands.h"
#include "cli/checkpoint_commands.h"
#include "cli/cli_output.h"
#include "cli/config_commands.h"
#include "cli/health_command.h"
#include "cli/measure_command.h"
#include "cli/nmt_commands.h"
#include "cli/predictor_commands.h"
#include "cli/remote_commands.h"
#include "cli/search_commands.h"
#include "cli/space_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"hatctl: hardware-aware Transformer architecture search (hatfleet)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "hatctl 0.1.0 (protocol hat.v1)");
  int exit_code = hat::cli::kExitOk;
  hat::cli::AddSpaceCommands(app, &exit_code);
  hat::cli::AddConfigCommands(app, &exit_code);
  hat::cli::AddMeasureCommand(app, &exit_code);
  hat::cli::AddPredictorCommands(app, &exit_code);
  hat::cli::AddNmtCommands(app, &exit_code);
  hat::cli::AddCheckpointCommands(app, &exit_code);
  hat::cli::AddHealthCommand(app, &exit_code);
  // After AddPredictorCommands: adds the remote `predictor list|download` to its subcommand.
  hat::cli::AddRemoteCommands(app, &exit_code);
  // After AddNmtCommands: adds `supernet upload`.
  hat::cli::AddArtifactCommands(app, &exit_code);
  // After AddRemoteCommands: adds `jobs submit search` beside `search run|result`.
  hat::cli::AddSearchCommands(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? hat::cli::kExitOk : hat::cli::kExitUsage;
  }
  return exit_code;
}
