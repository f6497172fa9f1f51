// Ctrl-C (and SIGTERM) for long local commands: while an InterruptScope lives, the signals set a
// flag instead of killing the process, so training or a search can finish its step, save what it
// has and exit; a rerun resumes there. The default handlers return when the scope ends.
#ifndef HATFLEET_CLI_INTERRUPT_H_
#define HATFLEET_CLI_INTERRUPT_H_

#include <atomic>

namespace hat::cli {

class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // Set once SIGINT or SIGTERM arrived within the scope.
  static const std::atomic<bool>* flag();
  static bool interrupted() { return flag()->load(); }
};

}  // namespace hat::cli

#endif  // HATFLEET_CLI_INTERRUPT_H_
