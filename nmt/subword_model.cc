// SubwordModel over the SentencePiece bridge.
#include "nmt/subword_model.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "nmt/sentencepiece_bridge.h"

namespace hat {

SubwordModel::SubwordModel() : processor_(std::make_unique<spm::Processor>()) {}
SubwordModel::SubwordModel(SubwordModel&&) noexcept = default;
SubwordModel& SubwordModel::operator=(SubwordModel&&) noexcept = default;
SubwordModel::~SubwordModel() = default;

absl::StatusOr<SubwordModel> SubwordModel::TrainBpe(const std::vector<std::string>& sentences,
                                                    const SubwordOptions& options) {
  if (options.vocab_size < 8 || options.vocab_size > 1000000) {
    return absl::InvalidArgumentError(
        absl::StrCat("subword vocab_size=", options.vocab_size, ": must be in [8, 1000000]"));
  }
  if (sentences.empty()) return absl::InvalidArgumentError("no text to train a subword model on");
  const std::map<std::string, std::string> flags = {
      {"model_type", "bpe"},
      {"vocab_size", absl::StrCat(options.vocab_size)},
      // A small corpus may not support the requested size: take what it has.
      {"hard_vocab_limit", "false"},
      {"character_coverage", "1.0"},
      {"bos_id", "0"},
      {"pad_id", "1"},
      {"eos_id", "2"},
      {"unk_id", "3"},
      {"input_sentence_size", "0"},  // all sentences: deterministic
      {"shuffle_input_sentence", "false"},
      {"num_threads", absl::StrCat(options.threads)},
      {"max_sentence_length", "16384"},
      {"minloglevel", "2"},
  };
  std::string serialized;
  const std::string error = spm::Train(sentences, flags, &serialized);
  if (!error.empty()) return absl::InternalError(absl::StrCat("training BPE: ", error));
  return FromSerialized(std::move(serialized), "trained BPE model");
}

absl::StatusOr<SubwordModel> SubwordModel::FromSerialized(std::string serialized,
                                                          const std::string& origin) {
  SubwordModel model;
  const std::string error = model.processor_->Load(serialized);
  if (!error.empty()) {
    return absl::DataLossError(absl::StrCat(origin, ": not a SentencePiece model (", error, ")"));
  }
  const std::pair<int, const char*> specials[] = {
      {0, "<s>"}, {1, "<pad>"}, {2, "</s>"}, {3, "<unk>"}};
  for (const auto& [id, piece] : specials) {
    if (model.processor_->Piece(id) != piece) {
      return absl::DataLossError(absl::StrCat(origin, ": id ", id, " is '",
                                              model.processor_->Piece(id), "', expected '", piece,
                                              "' (not a hatfleet subword model)"));
    }
  }
  model.serialized_ = std::move(serialized);
  return model;
}

absl::StatusOr<SubwordModel> SubwordModel::Load(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFileToString(path, 256 << 20);
  if (!bytes.ok()) return bytes.status();
  return FromSerialized(*std::move(bytes), path);
}

absl::Status SubwordModel::Save(const std::string& path) const {
  return WriteFileAtomically(path, serialized_);
}

absl::StatusOr<std::vector<int32_t>> SubwordModel::Encode(absl::string_view text) const {
  std::vector<int> ids;
  const std::string error = processor_->Encode(std::string(text), &ids);
  if (!error.empty()) return absl::InternalError(absl::StrCat("subword encoding: ", error));
  return std::vector<int32_t>(ids.begin(), ids.end());
}

absl::StatusOr<std::string> SubwordModel::Decode(const std::vector<int32_t>& ids) const {
  std::vector<int> kept;
  kept.reserve(ids.size());
  for (int32_t id : ids) {
    if (id > 3 || id == 3) kept.push_back(id);  // drop <s>, <pad>, </s>; keep <unk>
  }
  std::string text;
  const std::string error = processor_->Decode(kept, &text);
  if (!error.empty()) return absl::InternalError(absl::StrCat("subword decoding: ", error));
  return text;
}

int SubwordModel::vocab_size() const { return processor_->VocabSize(); }

}  // namespace hat
