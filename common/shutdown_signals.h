// SIGINT/SIGTERM handled the way a service should: blocked in every thread (call this in main
// before starting any), then awaited with sigwait on one thread, so nothing runs inside a signal
// handler.
#ifndef HATFLEET_COMMON_SHUTDOWN_SIGNALS_H_
#define HATFLEET_COMMON_SHUTDOWN_SIGNALS_H_

#include <pthread.h>
#include <signal.h>

namespace hat {

// Blocks SIGINT and SIGTERM for this thread and every thread it starts later.
inline sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// Waits for one of `signals` and returns its number.
inline int WaitForShutdownSignal(const sigset_t& signals) {
  int sig = 0;
  sigwait(&signals, &sig);
  return sig;
}

}  // namespace hat

#endif  // HATFLEET_COMMON_SHUTDOWN_SIGNALS_H_
