// Loading libhat_spm_shim.so and calling it; see sentencepiece_bridge.h.
#include "nmt/sentencepiece_bridge.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "nmt/sentencepiece_shim.h"

namespace hat::spm {
namespace {

struct Shim {
  std::string error;  // non-empty when it could not be loaded
  decltype(&hat_spm_train) train = nullptr;
  decltype(&hat_spm_load) load = nullptr;
  decltype(&hat_spm_release) release = nullptr;
  decltype(&hat_spm_encode) encode = nullptr;
  decltype(&hat_spm_decode) decode = nullptr;
  decltype(&hat_spm_piece_size) piece_size = nullptr;
  decltype(&hat_spm_id_to_piece) id_to_piece = nullptr;
  decltype(&hat_spm_free) free = nullptr;
};

std::string ExecutableDir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "" : exe.parent_path().string();
}

// Where the shim may be, in order: $HATFLEET_SPM_SHIM, the build tree it was built in, beside
// the executable's lib/ folder, then the loader's search path.
std::vector<std::string> Candidates() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("HATFLEET_SPM_SHIM"); env && *env) paths.push_back(env);
#ifdef HAT_SPM_SHIM_PATH
  paths.push_back(HAT_SPM_SHIM_PATH);
#endif
  const std::string dir = ExecutableDir();
  if (!dir.empty()) paths.push_back(dir + "/../lib/libhat_spm_shim.so");
  paths.push_back("libhat_spm_shim.so");
  return paths;
}

template <typename Fn>
bool Resolve(void* lib, const char* name, Fn* out, std::string* error) {
  *out = reinterpret_cast<Fn>(dlsym(lib, name));
  if (*out == nullptr) *error = std::string("SentencePiece shim lacks ") + name;
  return *out != nullptr;
}

const Shim& GetShim() {
  static Shim shim;
  static std::once_flag once;
  std::call_once(once, [] {
    std::string tried;
    void* lib = nullptr;
    for (const std::string& path : Candidates()) {
      // DEEPBIND: the shim and SentencePiece resolve their own symbols first (SentencePiece's
      // bundled protobuf); LOCAL: nothing of theirs leaks into the process's global scope.
      lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (lib != nullptr) break;
      const char* why = dlerror();
      tried += "\n  " + path + ": " + (why ? why : "not loadable");
    }
    if (lib == nullptr) {
      shim.error =
          "cannot load libhat_spm_shim.so (set HATFLEET_SPM_SHIM to its path); tried:" + tried;
      return;
    }
    std::string* e = &shim.error;
    Resolve(lib, "hat_spm_train", &shim.train, e) && Resolve(lib, "hat_spm_load", &shim.load, e) &&
        Resolve(lib, "hat_spm_release", &shim.release, e) &&
        Resolve(lib, "hat_spm_encode", &shim.encode, e) &&
        Resolve(lib, "hat_spm_decode", &shim.decode, e) &&
        Resolve(lib, "hat_spm_piece_size", &shim.piece_size, e) &&
        Resolve(lib, "hat_spm_id_to_piece", &shim.id_to_piece, e) &&
        Resolve(lib, "hat_spm_free", &shim.free, e);
  });
  return shim;
}

// The shim's malloc'ed message, freed.
std::string TakeError(const Shim& shim, char* error) {
  std::string message = error ? error : "unknown SentencePiece error";
  if (error) shim.free(error);
  return message;
}

}  // namespace

std::string Train(const std::vector<std::string>& sentences,
                  const std::map<std::string, std::string>& options, std::string* model) {
  const Shim& shim = GetShim();
  if (!shim.error.empty()) return shim.error;
  std::vector<const char*> lines, keys, values;
  lines.reserve(sentences.size());
  for (const std::string& s : sentences) lines.push_back(s.c_str());
  for (const auto& [k, v] : options) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  char* bytes = nullptr;
  size_t len = 0;
  char* error = nullptr;
  if (shim.train(lines.data(), lines.size(), keys.data(), values.data(), keys.size(), &bytes, &len,
                 &error) != 0) {
    return TakeError(shim, error);
  }
  model->assign(bytes, len);
  shim.free(bytes);
  return "";
}

Processor::~Processor() {
  if (handle_ != nullptr) GetShim().release(handle_);
}

Processor::Processor(Processor&& other) noexcept : handle_(other.handle_) {
  other.handle_ = nullptr;
}

Processor& Processor::operator=(Processor&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) GetShim().release(handle_);
    handle_ = other.handle_;
    other.handle_ = nullptr;
  }
  return *this;
}

std::string Processor::Load(const std::string& serialized_model) {
  const Shim& shim = GetShim();
  if (!shim.error.empty()) return shim.error;
  void* handle = nullptr;
  char* error = nullptr;
  if (shim.load(serialized_model.data(), serialized_model.size(), &handle, &error) != 0) {
    return TakeError(shim, error);
  }
  if (handle_ != nullptr) shim.release(handle_);
  handle_ = handle;
  return "";
}

std::string Processor::Encode(const std::string& text, std::vector<int>* ids) const {
  if (handle_ == nullptr) return "no SentencePiece model loaded";
  const Shim& shim = GetShim();
  int* out = nullptr;
  size_t n = 0;
  char* error = nullptr;
  if (shim.encode(handle_, text.data(), text.size(), &out, &n, &error) != 0) {
    return TakeError(shim, error);
  }
  ids->assign(out, out + n);
  shim.free(out);
  return "";
}

std::string Processor::Decode(const std::vector<int>& ids, std::string* text) const {
  if (handle_ == nullptr) return "no SentencePiece model loaded";
  const Shim& shim = GetShim();
  char* out = nullptr;
  size_t n = 0;
  char* error = nullptr;
  if (shim.decode(handle_, ids.data(), ids.size(), &out, &n, &error) != 0) {
    return TakeError(shim, error);
  }
  text->assign(out, n);
  shim.free(out);
  return "";
}

int Processor::VocabSize() const { return handle_ == nullptr ? 0 : GetShim().piece_size(handle_); }

std::string Processor::Piece(int id) const {
  if (handle_ == nullptr) return "";
  const Shim& shim = GetShim();
  char* piece = shim.id_to_piece(handle_, id);
  std::string out = piece ? piece : "";
  shim.free(piece);
  return out;
}

}  // namespace hat::spm
