// Subprocess: a child process for multi-process tests (hat-server, hat-agent, hatctl), with its
// output in a file, killed (SIGKILL) when the object is destroyed if still running.
#ifndef HATFLEET_TESTS_SUPPORT_SUBPROCESS_H_
#define HATFLEET_TESTS_SUPPORT_SUBPROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace hat::testing {

class Subprocess {
 public:
  // Starts `argv` with stdout and stderr appended to `log_path`.
  Subprocess(const std::vector<std::string>& argv, const std::string& log_path)
      : log_path_(log_path) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Subprocess() {
    if (running()) Kill(SIGKILL);
    Wait();
  }
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  void Kill(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  // Exit code, or 128 + signal; -1 when it was already reaped.
  int Wait() {
    if (pid_ <= 0) return exit_code_;
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
  }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0) return true;
    pid_ = -1;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  std::string Log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

}  // namespace hat::testing

#endif  // HATFLEET_TESTS_SUPPORT_SUBPROCESS_H_
