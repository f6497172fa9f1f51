// SuperTransformer checkpoints (their metadata reader, ReadCheckpointInfo) and SubTransformer
// archives (SubTransformer::Load), both LibTorch archives. Real files of the toy design space are
// written once; each input edits one of them (bytes flipped or overwritten, the file cut short)
// and the edited file is read. Input: [which][edit...], each edit [op][offset hi][offset lo]
// [length][bytes...].
// Properties: no crash (LibTorch's exceptions are caught at the module's edge), no hang; a
// refusal says why.
#include <torch/torch.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

#include "common/sampling.h"
#include "engine/sub_transformer.h"
#include "engine/super_transformer.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/support/toy_corpus.h"
#include "train/checkpoint.h"

namespace hat {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The bytes of a real checkpoint and of a real SubTransformer archive, toy-sized.
struct RealFiles {
  std::string checkpoint, archive;
};

RealFiles MakeRealFiles(fuzz::ScratchFile& scratch) {
  torch::manual_seed(1);
  const DesignSpace space = hat::testing::ToySpace();
  absl::StatusOr<std::shared_ptr<SuperTransformer>> model = SuperTransformer::Create(space, 1);
  FUZZ_CHECK(model.ok(), "the toy SuperTransformer builds");
  CheckpointInfo info;
  info.kind = "supernet";
  info.space = space;
  info.step = 10;
  info.source_lang = "en";
  info.target_lang = "de";
  info.options_json = "{}";
  info.train_seconds = 1.5;
  RealFiles files;
  const std::string& path = scratch.Write(nullptr, 0);
  FUZZ_CHECK(SaveCheckpoint(path, info, **model, nullptr).ok(), "the checkpoint is written");
  files.checkpoint = ReadAll(path);
  absl::StatusOr<SubTransformer> sub =
      SubTransformer::Random(space, SampleConfigs(space, 1, 1)[0], 1);
  FUZZ_CHECK(sub.ok(), "a toy SubTransformer builds");
  FUZZ_CHECK(sub->Save(path).ok(), "the SubTransformer archive is written");
  files.archive = ReadAll(path);
  return files;
}

uint8_t Next(const uint8_t*& data, const uint8_t* end) { return data < end ? *data++ : 0; }

}  // namespace
}  // namespace hat

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hat;
  static fuzz::ScratchFile scratch("input.pt");
  static const RealFiles real = MakeRealFiles(scratch);
  if (size == 0) return 0;
  const uint8_t* end = data + size;
  const bool checkpoint = Next(data, end) % 2 == 0;
  std::string file = checkpoint ? real.checkpoint : real.archive;
  while (data < end && !file.empty()) {
    const uint8_t op = Next(data, end);
    const size_t offset = ((size_t{Next(data, end)} << 8) | Next(data, end)) % file.size();
    const size_t length = std::min<size_t>(Next(data, end), end - data);
    for (size_t i = 0; i < length && offset + i < file.size(); ++i) {
      if (op % 3 == 0) file[offset + i] ^= static_cast<char>(data[i]);
      if (op % 3 == 1) file[offset + i] = static_cast<char>(data[i]);
    }
    if (op % 3 == 2) file.resize(offset);
    data += length;
  }
  const std::string& path =
      scratch.Write(reinterpret_cast<const uint8_t*>(file.data()), file.size());
  if (checkpoint) {
    const absl::StatusOr<CheckpointInfo> info = ReadCheckpointInfo(path);
    if (!info.ok()) FUZZ_CHECK(!info.status().message().empty(), "a refusal says why");
  } else {
    const absl::StatusOr<SubTransformer> sub = SubTransformer::Load(path);
    if (!sub.ok()) FUZZ_CHECK(!sub.status().message().empty(), "a refusal says why");
  }
  return 0;
}
