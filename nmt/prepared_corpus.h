// PreparedCorpus: a parallel corpus encoded into subword ids, ready for batching. Preparing
// trains the joint BPE model on the training split (both languages) and encodes every split;
// the result is cached on disk under a fingerprint of the corpus files' contents and the
// options, so it is built once and reused by every later command (and by both directions).
#ifndef HATFLEET_NMT_PREPARED_CORPUS_H_
#define HATFLEET_NMT_PREPARED_CORPUS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nmt/corpus_layout.h"
#include "nmt/subword_model.h"

namespace hat {

// One split of the corpus in subword ids; every sentence ends with eos (id 2).
struct EncodedSplit {
  std::vector<std::vector<int32_t>> source;
  std::vector<std::vector<int32_t>> target;
  size_t size() const { return source.size(); }
};

struct PrepareOptions {
  int vocab_size = 10000;
  int threads = 2;
  std::string cache_dir;  // empty: DefaultCacheDir()
  // Progress lines ("training BPE ...") for the user; may be null.
  std::function<void(const std::string&)> log;
};

struct PreparedCorpus {
  CorpusLayout layout;
  std::shared_ptr<const SubwordModel> subword;
  EncodedSplit train, valid, test;
  std::string cache_path;  // the cache entry: subword.model and the encoded splits
  bool from_cache = false;
};

// $HATFLEET_CACHE, else $XDG_CACHE_HOME/hatfleet, else $HOME/.cache/hatfleet, else /tmp/hatfleet.
std::string DefaultCacheDir();

// Prepares (or loads from the cache) every split of `layout`. Errors name the file: missing
// split files, line counts that differ between the two languages, unreadable text. A corrupt
// cache entry is rebuilt, not trusted.
absl::StatusOr<PreparedCorpus> PrepareCorpus(const CorpusLayout& layout,
                                             const PrepareOptions& options);

// One split of `layout` encoded with `subword`, without the cache (for evaluating a trained
// model with its own subword model). Errors as PrepareCorpus's.
absl::StatusOr<EncodedSplit> EncodeSplit(const CorpusLayout& layout, const std::string& split,
                                         const SubwordModel& subword);

}  // namespace hat

#endif  // HATFLEET_NMT_PREPARED_CORPUS_H_
