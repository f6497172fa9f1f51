// Beam search (and greedy search, its beam-1 case) over a StepDecoder, for a batch of sentences.
//
// Per step, every live hypothesis is extended by every token; the best 2·beam candidates of each
// sentence are scanned in order: a candidate ending in eos becomes a finished hypothesis (scored
// by its log-probability divided by length^length_penalty), the others fill the next beam. A
// sentence is done once `beam` hypotheses have finished, or at max_steps, where eos is forced.
// This is fairseq's search without its optional constraints (no n-gram blocking, no min length).
#ifndef HATFLEET_ENGINE_BEAM_SEARCH_H_
#define HATFLEET_ENGINE_BEAM_SEARCH_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/step_decoder.h"

namespace hat {

struct SearchOptions {
  int beam = 5;
  int max_steps = 200;          // tokens generated at most, eos included
  double length_penalty = 1.0;  // score / length^length_penalty; 0 = raw log-probability
  int64_t eos = 2;
  int64_t pad = 1;
  // Only ids below this are generated, the distribution renormalised over them (0: the decoder's
  // whole vocabulary). A model whose subword vocabulary is smaller than its design space's has
  // output rows that stand for no subword: they must never be chosen.
  int64_t vocab_size = 0;

  absl::Status Validate() const;
};

struct Hypothesis {
  std::vector<int64_t> tokens;  // generated tokens, ending in eos
  double score = 0;             // normalised as above
  double log_prob = 0;          // sum of token log-probabilities
};

// The best hypothesis of each of `sentences` sentences. The decoder's rows are sentence-major
// blocks of `beam` rows. Errors: INVALID_ARGUMENT for bad options; INTERNAL when the decoder
// throws.
absl::StatusOr<std::vector<Hypothesis>> BeamSearch(StepDecoder& decoder, int sentences,
                                                   const SearchOptions& options);

}  // namespace hat

#endif  // HATFLEET_ENGINE_BEAM_SEARCH_H_
