// Child processes; see child_processes.h.
#include "common/child_processes.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace hat {

absl::StatusOr<ChildProcesses> ChildProcesses::Start(
    const std::vector<std::vector<std::string>>& argvs, const std::vector<std::string>& logs) {
  ChildProcesses started;
  for (size_t i = 0; i < argvs.size(); ++i) {
    std::vector<char*> args;
    for (const std::string& a : argvs[i]) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    const std::string& log = i < logs.size() ? logs[i] : "/dev/null";
    posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&files, 1, 2);
    pid_t pid = 0;
    // posix_spawn, not fork: hat-server runs many threads, and the child execs at once.
    const int error = posix_spawn(&pid, args[0], &files, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&files);
    if (error != 0) {
      started.Stop(/*terminate=*/true, 5);
      return absl::UnavailableError(
          absl::StrCat("cannot start ", argvs[i][0], ": ", std::strerror(error)));
    }
    started.pids_.push_back(pid);
  }
  return started;
}

ChildProcesses::ChildProcesses(ChildProcesses&& other) noexcept { *this = std::move(other); }

ChildProcesses& ChildProcesses::operator=(ChildProcesses&& other) noexcept {
  if (this != &other) {
    Stop(true, 5);
    pids_ = std::move(other.pids_);
    other.pids_.clear();
  }
  return *this;
}

ChildProcesses::~ChildProcesses() { Stop(true, 5); }

void ChildProcesses::Stop(bool terminate, double grace_s) {
  if (pids_.empty()) return;
  if (terminate) {
    for (pid_t pid : pids_) {
      if (pid > 0) ::kill(pid, SIGTERM);
    }
  }
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(grace_s * 1000));
  auto reap = [&](size_t i, int flags) {
    if (pids_[i] > 0 && ::waitpid(pids_[i], nullptr, flags) == pids_[i]) pids_[i] = -1;
  };
  while (true) {
    bool running = false;
    for (size_t i = 0; i < pids_.size(); ++i) {
      reap(i, WNOHANG);
      running = running || pids_[i] > 0;
    }
    if (!running || std::chrono::steady_clock::now() >= until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (size_t i = 0; i < pids_.size(); ++i) {
    if (pids_[i] > 0) ::kill(pids_[i], SIGKILL);
    reap(i, 0);
  }
  pids_.clear();
}

}  // namespace hat
