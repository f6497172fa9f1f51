// libhat_spm_shim.so: SentencePiece behind a C interface; see sentencepiece_shim.h for why.
// Standard library and SentencePiece only: no Abseil, no project code.
#include "nmt/sentencepiece_shim.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

char* CopyOut(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out != nullptr) std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

int Fail(const std::string& message, char** error) {
  if (error != nullptr) *error = CopyOut(message);
  return 1;
}

// Feeds training sentences from memory (SentencePiece otherwise reads plain files only).
class ArrayIterator : public sentencepiece::SentenceIterator {
 public:
  ArrayIterator(const char* const* sentences, size_t n) : sentences_(sentences), n_(n) {
    if (n_ > 0) current_ = sentences_[0];
  }
  bool done() const override { return index_ >= n_; }
  void Next() override {
    if (++index_ < n_) current_ = sentences_[index_];
  }
  const std::string& value() const override { return current_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const char* const* sentences_;
  size_t n_;
  size_t index_ = 0;
  std::string current_;
};

}  // namespace

extern "C" {

int hat_spm_train(const char* const* sentences, size_t n, const char* const* keys,
                  const char* const* values, size_t n_options, char** model, size_t* model_len,
                  char** error) {
  try {
    std::unordered_map<std::string, std::string> kwargs;
    for (size_t i = 0; i < n_options; ++i) kwargs[keys[i]] = values[i];
    ArrayIterator it(sentences, n);
    std::string serialized;
    const auto status = sentencepiece::SentencePieceTrainer::Train(kwargs, &it, &serialized);
    if (!status.ok()) return Fail(status.ToString(), error);
    *model = static_cast<char*>(std::malloc(serialized.size() ? serialized.size() : 1));
    if (*model == nullptr) return Fail("out of memory", error);
    std::memcpy(*model, serialized.data(), serialized.size());
    *model_len = serialized.size();
    return 0;
  } catch (const std::exception& e) {
    return Fail(e.what(), error);
  }
}

int hat_spm_load(const char* model, size_t model_len, void** processor, char** error) {
  try {
    auto* p = new sentencepiece::SentencePieceProcessor();
    const auto status = p->LoadFromSerializedProto(std::string(model, model_len));
    if (!status.ok()) {
      delete p;
      return Fail(status.ToString(), error);
    }
    *processor = p;
    return 0;
  } catch (const std::exception& e) {
    return Fail(e.what(), error);
  }
}

void hat_spm_release(void* processor) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(processor);
}

int hat_spm_encode(const void* processor, const char* text, size_t text_len, int** ids,
                   size_t* n_ids, char** error) {
  try {
    const auto* p = static_cast<const sentencepiece::SentencePieceProcessor*>(processor);
    std::vector<int> out;
    const auto status = p->Encode(std::string(text, text_len), &out);
    if (!status.ok()) return Fail(status.ToString(), error);
    *ids = static_cast<int*>(std::malloc(sizeof(int) * (out.empty() ? 1 : out.size())));
    if (*ids == nullptr) return Fail("out of memory", error);
    std::memcpy(*ids, out.data(), sizeof(int) * out.size());
    *n_ids = out.size();
    return 0;
  } catch (const std::exception& e) {
    return Fail(e.what(), error);
  }
}

int hat_spm_decode(const void* processor, const int* ids, size_t n_ids, char** text,
                   size_t* text_len, char** error) {
  try {
    const auto* p = static_cast<const sentencepiece::SentencePieceProcessor*>(processor);
    std::string out;
    const auto status = p->Decode(std::vector<int>(ids, ids + n_ids), &out);
    if (!status.ok()) return Fail(status.ToString(), error);
    *text = CopyOut(out);
    if (*text == nullptr) return Fail("out of memory", error);
    *text_len = out.size();
    return 0;
  } catch (const std::exception& e) {
    return Fail(e.what(), error);
  }
}

int hat_spm_piece_size(const void* processor) {
  return static_cast<const sentencepiece::SentencePieceProcessor*>(processor)->GetPieceSize();
}

char* hat_spm_id_to_piece(const void* processor, int id) {
  const auto* p = static_cast<const sentencepiece::SentencePieceProcessor*>(processor);
  if (id < 0 || id >= p->GetPieceSize()) return CopyOut("");
  return CopyOut(p->IdToPiece(id));
}

void hat_spm_free(void* buffer) { std::free(buffer); }

}  // extern "C"
