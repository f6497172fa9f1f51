// SentencePiece for the rest of hatfleet: a std-only C++ face over libhat_spm_shim.so, which is
// loaded at run time (see sentencepiece_shim.h for why it cannot be linked). Errors come back as
// strings; subword_model.h turns them into absl::Status.
#ifndef HATFLEET_NMT_SENTENCEPIECE_BRIDGE_H_
#define HATFLEET_NMT_SENTENCEPIECE_BRIDGE_H_

#include <map>
#include <string>
#include <vector>

namespace hat::spm {

// Trains a model on `sentences` with trainer flags `options` (SentencePiece's names, e.g.
// {"model_type", "bpe"}); the serialized model in `model`. Returns "" or the error (also when
// the shim cannot be loaded, naming the paths tried).
std::string Train(const std::vector<std::string>& sentences,
                  const std::map<std::string, std::string>& options, std::string* model);

class Processor {
 public:
  Processor() = default;
  ~Processor();
  Processor(Processor&& other) noexcept;
  Processor& operator=(Processor&& other) noexcept;
  Processor(const Processor&) = delete;
  Processor& operator=(const Processor&) = delete;

  // From a serialized model. Returns "" or the error.
  std::string Load(const std::string& serialized_model);
  std::string Encode(const std::string& text, std::vector<int>* ids) const;
  std::string Decode(const std::vector<int>& ids, std::string* text) const;
  int VocabSize() const;
  // The piece of an id ("" when out of range).
  std::string Piece(int id) const;

 private:
  void* handle_ = nullptr;  // the shim's processor
};

}  // namespace hat::spm

#endif  // HATFLEET_NMT_SENTENCEPIECE_BRIDGE_H_
