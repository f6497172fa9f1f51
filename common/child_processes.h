// ChildProcesses: processes this one starts and must not leave behind: the other ranks of a
// data-parallel SuperTransformer training (hat-server's jobs, `hatctl supernet train
// --local-ranks`), started with their output appended to log files.
//
// Ranks need no supervision of their own: a rank whose peers are gone fails at its next
// all-reduce and exits. Stop() (and the destructor) ends them all the same, so that none outlives
// the work it was started for.
#ifndef HATFLEET_COMMON_CHILD_PROCESSES_H_
#define HATFLEET_COMMON_CHILD_PROCESSES_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace hat {

class ChildProcesses {
 public:
  // Starts one process per argument list, its stdout and stderr appended to the log file of the
  // same index. UNAVAILABLE naming the binary when one cannot be started (those started are
  // stopped).
  static absl::StatusOr<ChildProcesses> Start(const std::vector<std::vector<std::string>>& argvs,
                                              const std::vector<std::string>& logs);
  ChildProcesses() = default;
  ChildProcesses(ChildProcesses&& other) noexcept;
  ChildProcesses& operator=(ChildProcesses&& other) noexcept;
  ~ChildProcesses();  // Stop()

  // Waits up to `grace_s` for every process to exit, then kills the rest (SIGKILL) and reaps
  // them. With `terminate`, asks them to end first (SIGTERM).
  void Stop(bool terminate, double grace_s);

 private:
  std::vector<pid_t> pids_;
};

}  // namespace hat

#endif  // HATFLEET_COMMON_CHILD_PROCESSES_H_
