// SubwordModel: the joint source/target subword vocabulary (SentencePiece BPE), trained by the
// project through SentencePiece's C++ API. Ids follow fairseq's dictionary layout, which the
// engine uses (<s> 0, <pad> 1, </s> 2, <unk> 3), so encoded sentences feed the SuperTransformer
// as they are.
#ifndef HATFLEET_NMT_SUBWORD_MODEL_H_
#define HATFLEET_NMT_SUBWORD_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hat {

namespace spm {
class Processor;
}  // namespace spm

struct SubwordOptions {
  int vocab_size = 10000;  // at most; a small corpus may yield fewer pieces
  int threads = 2;
};

class SubwordModel {
 public:
  // BPE over `sentences` (give both languages' training text for a joint model).
  // INVALID_ARGUMENT for bad options or no text; INTERNAL with SentencePiece's message otherwise.
  static absl::StatusOr<SubwordModel> TrainBpe(const std::vector<std::string>& sentences,
                                               const SubwordOptions& options);
  // From a file written by Save; DATA_LOSS naming the file when it is not a usable model.
  static absl::StatusOr<SubwordModel> Load(const std::string& path);
  absl::Status Save(const std::string& path) const;  // atomically
  // From serialized bytes (as stored in a checkpoint); `origin` names them in errors.
  static absl::StatusOr<SubwordModel> FromSerialized(std::string serialized,
                                                     const std::string& origin);

  SubwordModel(SubwordModel&&) noexcept;
  SubwordModel& operator=(SubwordModel&&) noexcept;
  ~SubwordModel();

  // The ids of `text`, without eos.
  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text) const;
  // The text of `ids`; special ids (bos, pad, eos) are dropped.
  absl::StatusOr<std::string> Decode(const std::vector<int32_t>& ids) const;
  int vocab_size() const;
  const std::string& serialized() const { return serialized_; }

 private:
  SubwordModel();

  std::string serialized_;
  std::unique_ptr<spm::Processor> processor_;
};

}  // namespace hat

#endif  // HATFLEET_NMT_SUBWORD_MODEL_H_
