// What the multi-process tests share: polling a condition until a bound (the bound only keeps a
// broken build from hanging a test; no assertion is about speed) and reading a whole file.
#ifndef HATFLEET_TESTS_SUPPORT_POLLING_H_
#define HATFLEET_TESTS_SUPPORT_POLLING_H_

#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>

namespace hat::testing {

// Asks `done` every 50 ms until it is true or `seconds` have passed; its last answer.
inline bool WaitFor(const std::function<bool()>& done, double seconds) {
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

// The file's contents; empty when it cannot be read.
inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace hat::testing

#endif  // HATFLEET_TESTS_SUPPORT_POLLING_H_
