// Repeated measurements of one SubTransformer become one dataset row, after removing the host's
// drift that the repeats reveal.
//
// Why combine: a device class's measurements can hold a config more than once (a latency-dataset
// job with `repeats`, or two jobs that sampled the same config). As separate rows a config could
// land in both the training and the test split, and the accuracy report would flatter the
// predictor. After combining, a config is one row: the median of its encoder latencies and of
// its decoder latencies.
//
// Why correct drift: on a shared machine every workload slows down and speeds up together over
// minutes (docs/BENCHMARKS.md: swings of +-2..7% lasting ~10 minutes on the development VM, far
// above one measurement's own standard error). Measured once, a config carries the host's state
// at that minute into its label. When configs were measured more than once, each measurement's
// deviation from its config's level (in log space) shows that state, and the host's drift at
// time t is the median deviation of the measurements of *other* configs nearest to t; levels and
// drift are estimated in alternation (options.drift_rounds). Every timed measurement with such
// neighbours (repeated or not) is divided by the drift at its start time, separately for the
// encoder and the decoder (their swings differ in size). No model and no reference workload is
// involved: the correction uses measurements only, so it can precede any predictor and any split.
#ifndef HATFLEET_PREDICTOR_REPEATED_MEASUREMENTS_H_
#define HATFLEET_PREDICTOR_REPEATED_MEASUREMENTS_H_

#include <cstdint>

#include "predictor/latency_records.h"

namespace hat {

struct RepeatedMeasurementOptions {
  // Divide measurements by the host drift estimated from repeats (a no-op without repeats or
  // without start times).
  bool correct_host_drift = true;
  // Measurements of other configs, nearest in time, whose median deviation is the drift.
  int drift_neighbours = 4;
  // Rounds of alternating estimates of the configs' levels and the drift.
  int drift_rounds = 10;
  // Only measurements started this close in time tell the host's state; a measurement with no
  // such neighbour (say, from another job hours apart) is left uncorrected.
  int64_t drift_window_ms = 10 * 60 * 1000;
};

// Corrects host drift (when asked and possible), then replaces `dataset->rows` by one row per
// config key in order of first appearance (rows without a key are kept as they are); sets
// dataset->measurements and dataset->drift_corrected.
// REQUIRES: options.drift_neighbours >= 1.
void CombineRepeatedMeasurements(LatencyDataset* dataset,
                                 const RepeatedMeasurementOptions& options = {});

// The drift correction alone, in place; returns how many measurements it corrected: those with
// a repeated measurement of another config within options.drift_window_ms (0 when fewer than
// options.drift_neighbours + 1 timed measurements belong to configs measured twice or more,
// too few to tell the host's state from one config's noise).
int CorrectHostDrift(std::vector<LatencyRecord>* measurements,
                     const RepeatedMeasurementOptions& options = {});

}  // namespace hat

#endif  // HATFLEET_PREDICTOR_REPEATED_MEASUREMENTS_H_
