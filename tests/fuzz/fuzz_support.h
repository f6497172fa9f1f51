// Helpers for the fuzz targets: a scratch file for loaders that read paths, and FUZZ_CHECK for
// the properties a target asserts beyond "does not crash".
#ifndef HATFLEET_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define HATFLEET_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace hat::fuzz {

// A file in a private directory (on /dev/shm when there is one), rewritten with each input.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& name) {
    std::error_code error;
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm", error)
                                           ? "/dev/shm"
                                           : std::filesystem::temp_directory_path();
    dir_ = base / ("hatfleet-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_, error);
    path_ = (dir_ / name).string();
  }
  ~ScratchFile() {
    std::error_code error;
    std::filesystem::remove_all(dir_, error);
  }
  const std::string& Write(const uint8_t* data, size_t size) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return path_;
  }

 private:
  std::filesystem::path dir_;
  std::string path_;
};

}  // namespace hat::fuzz

// A property the target asserts: aborts (a finding, under libFuzzer and in the replay) with the
// property and where it was checked.
#define FUZZ_CHECK(condition, what)                                                       \
  do {                                                                                    \
    if (!(condition)) {                                                                   \
      std::fprintf(stderr, "%s:%d: property failed: %s (%s)\n", __FILE__, __LINE__, what, \
                   #condition);                                                           \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

#endif  // HATFLEET_TESTS_FUZZ_FUZZ_SUPPORT_H_
