// Corpus preparation and its on-disk cache; see prepared_corpus.h.
//
// Cache entry <cache>/corpus-<fingerprint>/: subword.model, <split>.<lang>.ids (encoded
// sentences) and, written last, manifest.json, so an entry interrupted while being written is
// never taken for a complete one. An .ids file: the magic "HATIDS1\n", the sentence count
// (uint64), per sentence its length (uint32) and ids (int32), then a fingerprint of all that.
#include "nmt/prepared_corpus.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/fingerprint.h"
#include "common/status_macros.h"
#include "nmt/text_file.h"

namespace hat {
namespace {

constexpr char kIdsMagic[] = "HATIDS1\n";
constexpr char kCacheFormat[] = "hatfleet.corpus.v1";

template <typename T>
void AppendPod(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

std::string SerializeIds(const std::vector<std::vector<int32_t>>& sentences) {
  std::string out = kIdsMagic;
  AppendPod<uint64_t>(out, sentences.size());
  for (const auto& s : sentences) {
    AppendPod<uint32_t>(out, static_cast<uint32_t>(s.size()));
    out.append(reinterpret_cast<const char*>(s.data()), s.size() * sizeof(int32_t));
  }
  AppendPod<uint64_t>(out, Fingerprint().Add(out).value());
  return out;
}

absl::StatusOr<std::vector<std::vector<int32_t>>> ParseIds(const std::string& bytes,
                                                           const std::string& path) {
  const size_t magic = std::strlen(kIdsMagic);
  auto corrupt = [&](const char* what) {
    return absl::DataLossError(absl::StrCat(path, ": ", what));
  };
  if (bytes.size() < magic + 2 * sizeof(uint64_t) || bytes.compare(0, magic, kIdsMagic) != 0) {
    return corrupt("not an encoded-corpus file");
  }
  const size_t body = bytes.size() - sizeof(uint64_t);
  uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + body, sizeof(stored));
  if (Fingerprint().Add(absl::string_view(bytes.data(), body)).value() != stored) {
    return corrupt("checksum mismatch (truncated or corrupt)");
  }
  size_t pos = magic;
  uint64_t count = 0;
  std::memcpy(&count, bytes.data() + pos, sizeof(count));
  pos += sizeof(count);
  std::vector<std::vector<int32_t>> out;
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t len = 0;
    if (pos + sizeof(len) > body) return corrupt("truncated");
    std::memcpy(&len, bytes.data() + pos, sizeof(len));
    pos += sizeof(len);
    if (pos + size_t{len} * sizeof(int32_t) > body) return corrupt("truncated");
    std::vector<int32_t> s(len);
    std::memcpy(s.data(), bytes.data() + pos, len * sizeof(int32_t));
    pos += len * sizeof(int32_t);
    out.push_back(std::move(s));
  }
  if (pos != body) return corrupt("trailing bytes");
  return out;
}

// Fingerprint of a file's bytes, streamed.
absl::Status AddFileContents(const std::string& path, Fingerprint& fp) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::UnavailableError(absl::StrCat(path, ": cannot read"));
  std::string buffer(1 << 20, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    fp.Add(absl::string_view(buffer.data(), static_cast<size_t>(in.gcount())));
  }
  return absl::OkStatus();
}

std::vector<std::string> Languages(const CorpusLayout& layout) {
  return {layout.source_lang, layout.target_lang};
}

// Reads both languages of a split and checks they are line-aligned.
absl::Status ReadSplit(const CorpusLayout& layout, const std::string& split,
                       std::vector<std::string>* first, std::vector<std::string>* second) {
  HAT_ASSIGN_OR_RETURN(const std::string a, layout.File(split, layout.source_lang));
  HAT_ASSIGN_OR_RETURN(const std::string b, layout.File(split, layout.target_lang));
  HAT_ASSIGN_OR_RETURN(*first, ReadLines(a));
  HAT_ASSIGN_OR_RETURN(*second, ReadLines(b));
  if (first->size() != second->size()) {
    return absl::InvalidArgumentError(absl::StrCat(a, " has ", first->size(), " lines but ", b,
                                                   " has ", second->size(),
                                                   ": a parallel corpus must be line-aligned"));
  }
  if (first->empty()) return absl::InvalidArgumentError(absl::StrCat(a, ": empty"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::vector<int32_t>>> EncodeAll(const SubwordModel& model,
                                                            const std::vector<std::string>& lines) {
  std::vector<std::vector<int32_t>> out;
  out.reserve(lines.size());
  for (const std::string& line : lines) {
    HAT_ASSIGN_OR_RETURN(std::vector<int32_t> ids, model.Encode(line));
    ids.push_back(2);  // eos
    out.push_back(std::move(ids));
  }
  return out;
}

EncodedSplit& SplitOf(PreparedCorpus& corpus, absl::string_view split) {
  if (split == "train") return corpus.train;
  if (split == "valid") return corpus.valid;
  return corpus.test;
}

std::string IdsPath(const std::string& entry, const std::string& split, const std::string& lang) {
  return absl::StrCat(entry, "/", split, ".", lang, ".ids");
}

// Loads a complete cache entry; any problem means "rebuild".
absl::StatusOr<PreparedCorpus> LoadEntry(const CorpusLayout& layout, const std::string& entry) {
  HAT_ASSIGN_OR_RETURN(const std::string manifest, ReadFileToString(entry + "/manifest.json"));
  const nlohmann::json j = nlohmann::json::parse(manifest, nullptr, false);
  if (j.is_discarded() || j.value("format", "") != kCacheFormat) {
    return absl::DataLossError(entry + "/manifest.json: not a corpus cache manifest");
  }
  PreparedCorpus corpus;
  corpus.layout = layout;
  corpus.cache_path = entry;
  corpus.from_cache = true;
  HAT_ASSIGN_OR_RETURN(SubwordModel model, SubwordModel::Load(entry + "/subword.model"));
  corpus.subword = std::make_shared<const SubwordModel>(std::move(model));
  for (const char* split : kCorpusSplits) {
    EncodedSplit* out = &SplitOf(corpus, split);
    for (int side = 0; side < 2; ++side) {
      const std::string lang = side == 0 ? layout.source_lang : layout.target_lang;
      const std::string path = IdsPath(entry, split, lang);
      HAT_ASSIGN_OR_RETURN(const std::string bytes, ReadFileToString(path, size_t{16} << 30));
      HAT_ASSIGN_OR_RETURN(auto ids, ParseIds(bytes, path));
      (side == 0 ? out->source : out->target) = std::move(ids);
    }
    if (out->source.size() != out->target.size()) {
      return absl::DataLossError(absl::StrCat(entry, ": ", split, " sides differ in length"));
    }
  }
  return corpus;
}

}  // namespace

absl::StatusOr<EncodedSplit> EncodeSplit(const CorpusLayout& layout, const std::string& split,
                                         const SubwordModel& subword) {
  std::vector<std::string> src, tgt;
  HAT_RETURN_IF_ERROR(ReadSplit(layout, split, &src, &tgt));
  EncodedSplit out;
  HAT_ASSIGN_OR_RETURN(out.source, EncodeAll(subword, src));
  HAT_ASSIGN_OR_RETURN(out.target, EncodeAll(subword, tgt));
  return out;
}

std::string DefaultCacheDir() {
  if (const char* v = std::getenv("HATFLEET_CACHE"); v && *v) return v;
  if (const char* v = std::getenv("XDG_CACHE_HOME"); v && *v) return absl::StrCat(v, "/hatfleet");
  if (const char* v = std::getenv("HOME"); v && *v) return absl::StrCat(v, "/.cache/hatfleet");
  return "/tmp/hatfleet";
}

absl::StatusOr<PreparedCorpus> PrepareCorpus(const CorpusLayout& layout,
                                             const PrepareOptions& options) {
  auto log = [&](const std::string& line) {
    if (options.log) options.log(line);
  };
  // The key covers every file of both languages (sorted, so the direction does not matter).
  std::vector<std::string> langs = Languages(layout);
  std::sort(langs.begin(), langs.end());
  Fingerprint fp;
  fp.Add(kCacheFormat).Add(absl::StrCat("vocab=", options.vocab_size));
  for (const char* split : kCorpusSplits) {
    for (const std::string& lang : langs) {
      HAT_ASSIGN_OR_RETURN(const std::string file, layout.File(split, lang));
      fp.Add(absl::StrCat("|", split, ".", lang, "|"));
      HAT_RETURN_IF_ERROR(AddFileContents(file, fp));
    }
  }
  const std::string cache_dir = options.cache_dir.empty() ? DefaultCacheDir() : options.cache_dir;
  const std::string entry = absl::StrCat(cache_dir, "/corpus-", fp.Hex());
  absl::StatusOr<PreparedCorpus> cached = LoadEntry(layout, entry);
  if (cached.ok()) {
    log(absl::StrCat("corpus: using the prepared cache ", entry));
    return cached;
  }
  if (!absl::IsNotFound(cached.status())) {
    log(absl::StrCat("corpus: rebuilding the cache (", cached.status().message(), ")"));
  }

  std::error_code ec;
  std::filesystem::create_directories(entry, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot create cache directory ", entry, ": ",
                                               ec.message(), " (set --cache or HATFLEET_CACHE)"));
  }
  PreparedCorpus corpus;
  corpus.layout = layout;
  corpus.cache_path = entry;
  std::vector<std::string> train_src, train_tgt;
  HAT_RETURN_IF_ERROR(ReadSplit(layout, "train", &train_src, &train_tgt));
  log(absl::StrCat("corpus: training a joint BPE model (", options.vocab_size, " pieces) on ",
                   train_src.size(), " sentence pairs"));
  std::vector<std::string> joint = train_src;
  joint.insert(joint.end(), train_tgt.begin(), train_tgt.end());
  SubwordOptions subword_options;
  subword_options.vocab_size = options.vocab_size;
  subword_options.threads = options.threads;
  HAT_ASSIGN_OR_RETURN(SubwordModel model, SubwordModel::TrainBpe(joint, subword_options));
  joint.clear();
  HAT_RETURN_IF_ERROR(model.Save(entry + "/subword.model"));
  corpus.subword = std::make_shared<const SubwordModel>(std::move(model));
  for (const char* split : kCorpusSplits) {
    std::vector<std::string> src, tgt;
    if (split == std::string("train")) {
      src = std::move(train_src);
      tgt = std::move(train_tgt);
    } else {
      HAT_RETURN_IF_ERROR(ReadSplit(layout, split, &src, &tgt));
    }
    EncodedSplit* out = &SplitOf(corpus, split);
    HAT_ASSIGN_OR_RETURN(out->source, EncodeAll(*corpus.subword, src));
    HAT_ASSIGN_OR_RETURN(out->target, EncodeAll(*corpus.subword, tgt));
    HAT_RETURN_IF_ERROR(
        WriteFileAtomically(IdsPath(entry, split, layout.source_lang), SerializeIds(out->source)));
    HAT_RETURN_IF_ERROR(
        WriteFileAtomically(IdsPath(entry, split, layout.target_lang), SerializeIds(out->target)));
    log(absl::StrCat("corpus: encoded ", split, ": ", out->size(), " sentence pairs"));
  }
  const nlohmann::json manifest = {{"format", kCacheFormat},
                                   {"vocab_size", options.vocab_size},
                                   {"subword_pieces", corpus.subword->vocab_size()},
                                   {"corpus", layout.dir},
                                   {"languages", Languages(layout)}};
  HAT_RETURN_IF_ERROR(WriteFileAtomically(entry + "/manifest.json", manifest.dump(2)));
  return corpus;
}

}  // namespace hat
