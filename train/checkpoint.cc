// Checkpoint files; see checkpoint.h.
#include "train/checkpoint.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/config_io.h"
#include "common/design_space_io.h"
#include "common/file_util.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "engine/super_transformer.h"
#include "engine/torch_status.h"

namespace hat {
namespace {

nlohmann::json InfoToJson(const CheckpointInfo& info) {
  nlohmann::json j = {{"format", kCheckpointFormat},
                      {"kind", info.kind},
                      {"space", DesignSpaceToJsonValue(info.space)},
                      {"step", info.step},
                      {"source_lang", info.source_lang},
                      {"target_lang", info.target_lang},
                      {"corpus_dir", info.corpus_dir},
                      {"options", info.options_json},
                      {"averaged_from", info.averaged_from}};
  if (info.config) j["config"] = ConfigToJsonValue(*info.config);
  if (info.train_seconds) j["train_seconds"] = *info.train_seconds;
  return j;
}

absl::StatusOr<CheckpointInfo> InfoFromJson(const std::string& text, const std::string& path) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("format") || !j["format"].is_string()) {
    return absl::DataLossError(absl::StrCat(path, ": metadata is not a hatfleet checkpoint"));
  }
  if (j["format"] != kCheckpointFormat) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": format '", j["format"].get<std::string>(),
                     "' is not readable by this build (it reads ", kCheckpointFormat, ")"));
  }
  CheckpointInfo info;
  try {
    info.kind = j.at("kind").get<std::string>();
    HAT_ASSIGN_OR_RETURN(info.space, ParseDesignSpace(j.at("space").dump(), "checkpoint"));
    info.step = j.at("step").get<int64_t>();
    info.source_lang = j.at("source_lang").get<std::string>();
    info.target_lang = j.at("target_lang").get<std::string>();
    info.corpus_dir = j.value("corpus_dir", "");
    info.options_json = j.at("options").get<std::string>();
    info.averaged_from = j.at("averaged_from").get<int>();
    if (j.contains("train_seconds")) info.train_seconds = j["train_seconds"].get<double>();
    if (j.contains("config")) {
      HAT_ASSIGN_OR_RETURN(ParsedConfig parsed, ParseSubTransformerConfig(j["config"].dump()));
      info.config = parsed.config;
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": metadata: ", e.what()));
  }
  return info;
}

// Opens the archive and reads its metadata and subword model.
absl::Status OpenArchive(const std::string& path, torch::serialize::InputArchive& archive,
                         CheckpointInfo* info) {
  HAT_ASSIGN_OR_RETURN(const std::string bytes, ReadFileToString(path, size_t{16} << 30));
  std::string meta_text, subword;
  absl::Status opened = CallTorch(path, [&]() -> absl::Status {
    std::istringstream in(bytes);
    archive.load_from(in);
    c10::IValue meta, spm;
    archive.read("meta", meta);
    archive.read("subword_model", spm);
    meta_text = meta.toStringRef();
    subword = spm.toStringRef();
    return absl::OkStatus();
  });
  if (!opened.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": not a readable checkpoint (truncated or ",
                                            "corrupt?): ", opened.message()));
  }
  HAT_ASSIGN_OR_RETURN(*info, InfoFromJson(meta_text, path));
  info->subword_model = std::move(subword);
  return absl::OkStatus();
}

int64_t StepOf(const std::string& name) {
  static const std::regex pattern("checkpoint_([0-9]+)\\.pt");
  std::smatch m;
  if (!std::regex_match(name, m, pattern)) return -1;
  return std::stoll(m[1]);
}

}  // namespace

absl::Status SaveCheckpoint(const std::string& path, const CheckpointInfo& info,
                            const SuperTransformer& model,
                            const torch::optim::Optimizer* optimizer) {
  HAT_ASSIGN_OR_RETURN(std::string bytes, CallTorch(path, [&]() -> absl::StatusOr<std::string> {
                         torch::serialize::OutputArchive archive;
                         archive.write("meta", c10::IValue(InfoToJson(info).dump()));
                         archive.write("subword_model", c10::IValue(info.subword_model));
                         torch::serialize::OutputArchive params;
                         for (const auto& p : model.named_parameters()) {
                           params.write(p.key(), p.value().detach());
                         }
                         archive.write("params", params);
                         if (optimizer != nullptr) {
                           torch::serialize::OutputArchive state;
                           optimizer->save(state);
                           archive.write("optimizer", state);
                         }
                         std::ostringstream out;
                         archive.save_to(out);
                         return out.str();
                       }));
  return WriteFileAtomically(path, bytes);
}

struct CheckpointReader::Archive {
  torch::serialize::InputArchive archive;
};

CheckpointReader::CheckpointReader() = default;
CheckpointReader::CheckpointReader(CheckpointReader&&) noexcept = default;
CheckpointReader& CheckpointReader::operator=(CheckpointReader&&) noexcept = default;
CheckpointReader::~CheckpointReader() = default;

absl::StatusOr<CheckpointReader> CheckpointReader::Open(const std::string& path) {
  CheckpointReader reader;
  reader.path_ = path;
  reader.archive_ = std::make_unique<Archive>();
  HAT_RETURN_IF_ERROR(OpenArchive(path, reader.archive_->archive, &reader.info_));
  return reader;
}

absl::Status CheckpointReader::Restore(SuperTransformer& model,
                                       torch::optim::Optimizer* optimizer) {
  if (!(info_.space.super == model.space().super)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path_, ": its SuperTransformer has other dimensions than the model it is loaded into"));
  }
  return CallTorch(path_, [&]() -> absl::Status {
    torch::serialize::InputArchive params;
    if (!archive_->archive.try_read("params", params)) {
      return absl::DataLossError(absl::StrCat(path_, ": no parameters"));
    }
    torch::NoGradGuard no_grad;
    for (auto& p : model.named_parameters()) {
      at::Tensor stored;
      if (!params.try_read(p.key(), stored)) {
        return absl::DataLossError(absl::StrCat(path_, ": parameter ", p.key(), " is missing"));
      }
      if (!stored.sizes().equals(p.value().sizes())) {
        return absl::DataLossError(absl::StrCat(path_, ": parameter ", p.key(), " has shape ",
                                                c10::str(stored.sizes()), ", expected ",
                                                c10::str(p.value().sizes())));
      }
      p.value().copy_(stored);
    }
    if (optimizer != nullptr) {
      torch::serialize::InputArchive state;
      if (!archive_->archive.try_read("optimizer", state)) {
        return absl::FailedPreconditionError(
            absl::StrCat(path_,
                         ": has no optimizer state (an averaged checkpoint cannot be "
                         "resumed from)"));
      }
      optimizer->load(state);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<CheckpointInfo> ReadCheckpointInfo(const std::string& path) {
  HAT_ASSIGN_OR_RETURN(CheckpointReader reader, CheckpointReader::Open(path));
  return reader.info();
}

absl::Status RestoreCheckpoint(const std::string& path, SuperTransformer& model,
                               torch::optim::Optimizer* optimizer) {
  HAT_ASSIGN_OR_RETURN(CheckpointReader reader, CheckpointReader::Open(path));
  return reader.Restore(model, optimizer);
}

absl::StatusOr<std::string> ParametersSha256(const std::string& path) {
  HAT_ASSIGN_OR_RETURN(CheckpointReader reader, CheckpointReader::Open(path));
  HAT_ASSIGN_OR_RETURN(auto model, SuperTransformer::Create(reader.info().space, 0));
  HAT_RETURN_IF_ERROR(reader.Restore(*model, nullptr));
  return CallTorch(path, [&]() -> absl::StatusOr<std::string> {
    std::map<std::string, at::Tensor> by_name;
    for (const auto& p : model->named_parameters()) {
      by_name[p.key()] = p.value().detach().to(at::kFloat).contiguous();
    }
    Sha256 sha;
    for (const auto& [name, tensor] : by_name) {
      sha.Update(name);
      sha.Update(absl::string_view(static_cast<const char*>(tensor.data_ptr()),
                                   tensor.numel() * sizeof(float)));
    }
    return sha.HexDigest();
  });
}

std::string CheckpointPath(const std::string& dir, int64_t step) {
  return absl::StrCat(dir, "/checkpoint_", step, ".pt");
}

std::vector<std::string> ListCheckpoints(const std::string& dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const int64_t step = StepOf(entry.path().filename().string());
    if (step >= 0 && entry.is_regular_file()) found.emplace_back(step, entry.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

absl::StatusOr<std::string> ResolveCheckpoint(const std::string& path, bool prefer_average) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) return path;
  if (!std::filesystem::is_directory(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such checkpoint file or run directory"));
  }
  const std::string average = path + "/checkpoint_avg.pt";
  if (prefer_average && std::filesystem::is_regular_file(average, ec)) return average;
  const std::vector<std::string> all = ListCheckpoints(path);
  if (all.empty()) return absl::NotFoundError(absl::StrCat(path, ": holds no checkpoint"));
  return all.back();
}

absl::StatusOr<std::vector<std::string>> ExpandCheckpoints(const std::vector<std::string>& inputs,
                                                           int last) {
  if (last < 0) return absl::InvalidArgumentError(absl::StrCat("last=", last, ": must be >= 0"));
  std::vector<std::string> out;
  for (const std::string& input : inputs) {
    std::error_code ec;
    if (std::filesystem::is_directory(input, ec)) {
      const std::vector<std::string> found = ListCheckpoints(input);
      if (found.empty()) return absl::NotFoundError(absl::StrCat(input, ": holds no checkpoint"));
      out.insert(out.end(), found.begin(), found.end());
    } else if (std::filesystem::is_regular_file(input, ec)) {
      out.push_back(input);
    } else {
      return absl::NotFoundError(absl::StrCat(input, ": no such checkpoint file or run directory"));
    }
  }
  if (out.empty()) return absl::InvalidArgumentError("no checkpoints given");
  for (size_t i = 0; i < out.size(); ++i) {
    for (size_t k = 0; k < i; ++k) {
      std::error_code ec;
      if (std::filesystem::equivalent(out[i], out[k], ec)) {
        return absl::InvalidArgumentError(absl::StrCat(out[i], ": named twice (as ", out[k], ")"));
      }
    }
  }
  if (last > 0) {
    if (out.size() < static_cast<size_t>(last)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the last ", last, " checkpoints asked for, ", out.size(), " found"));
    }
    out.erase(out.begin(), out.end() - last);
  }
  return out;
}

absl::Status PruneCheckpoints(const std::string& dir, int keep) {
  std::vector<std::string> all = ListCheckpoints(dir);
  for (size_t i = 0; i + keep < all.size(); ++i) {
    std::error_code ec;
    std::filesystem::remove(all[i], ec);
    if (ec) return absl::UnavailableError(absl::StrCat("removing ", all[i], ": ", ec.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<CheckpointInfo> AverageCheckpoints(const std::vector<std::string>& paths,
                                                  const std::string& out) {
  if (paths.empty()) return absl::InvalidArgumentError("no checkpoints to average");
  // Each file is read once; the newest gives the metadata of the average.
  HAT_ASSIGN_OR_RETURN(CheckpointReader newest, CheckpointReader::Open(paths.back()));
  CheckpointInfo info = newest.info();
  HAT_ASSIGN_OR_RETURN(auto sum_model, SuperTransformer::Create(info.space, 0));
  HAT_ASSIGN_OR_RETURN(auto scratch, SuperTransformer::Create(info.space, 0));
  std::vector<at::Tensor> sums;
  for (size_t i = 0; i < paths.size(); ++i) {
    absl::StatusOr<CheckpointReader> opened =
        i + 1 == paths.size() ? absl::StatusOr<CheckpointReader>(std::move(newest))
                              : CheckpointReader::Open(paths[i]);
    if (!opened.ok()) return opened.status();
    if (!(opened->info().space == info.space)) {
      return absl::InvalidArgumentError(
          absl::StrCat(paths[i], " and ", paths.back(), " are from different design spaces"));
    }
    HAT_RETURN_IF_ERROR(opened->Restore(*scratch, nullptr));
    HAT_RETURN_IF_ERROR(CallTorch("averaging", [&]() -> absl::Status {
      torch::NoGradGuard no_grad;
      const auto params = scratch->parameters();
      for (size_t k = 0; k < params.size(); ++k) {
        if (i == 0) {
          sums.push_back(params[k].to(at::kDouble));
        } else {
          sums[k].add_(params[k].to(at::kDouble));
        }
      }
      return absl::OkStatus();
    }));
  }
  HAT_RETURN_IF_ERROR(CallTorch("averaging", [&]() -> absl::Status {
    torch::NoGradGuard no_grad;
    const auto params = sum_model->parameters();
    for (size_t k = 0; k < params.size(); ++k) {
      params[k].copy_(sums[k] / static_cast<double>(paths.size()));
    }
    return absl::OkStatus();
  }));
  info.averaged_from = static_cast<int>(paths.size());
  HAT_RETURN_IF_ERROR(SaveCheckpoint(out, info, *sum_model, nullptr));
  return info;
}

}  // namespace hat
