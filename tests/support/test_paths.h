// Where tests find the repository's data (HAT_SOURCE_DIR is set by tests/CMakeLists.txt).
#ifndef HATFLEET_TESTS_SUPPORT_TEST_PATHS_H_
#define HATFLEET_TESTS_SUPPORT_TEST_PATHS_H_

#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace hat::testing {

inline std::string SourcePath(const std::string& relative) {
  return std::string(HAT_SOURCE_DIR) + "/" + relative;
}

inline std::string HatConfigPath(const std::string& relative) {
  return SourcePath("data/hat-configs/wmt14.en-de/" + relative);
}

// Paths of the files in `dir` whose names start with `prefix` and end with `suffix`, sorted.
inline std::vector<std::string> ListFiles(const std::string& dir, const std::string& prefix,
                                          const std::string& suffix) {
  std::vector<std::string> files;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return files;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() >= prefix.size() + suffix.size() && name.rfind(prefix, 0) == 0 &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      files.push_back(dir + "/" + name);
    }
  }
  ::closedir(d);
  std::sort(files.begin(), files.end());
  return files;
}

// `text` with the first `from` replaced by `to`; a test failure when `from` is absent.
inline std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "no '" << from << "' to replace";
  if (at == std::string::npos) return text;
  return text.replace(at, from.size(), to);
}

}  // namespace hat::testing

#endif  // HATFLEET_TESTS_SUPPORT_TEST_PATHS_H_
