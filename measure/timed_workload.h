// TimedWorkload: what the measurement library times. The inference engine implements it for a
// SubTransformer on a device; tests implement it with scripted durations. Keeping LibTorch behind
// this interface lets the protocol logic be tested without a model.
#ifndef HATFLEET_MEASURE_TIMED_WORKLOAD_H_
#define HATFLEET_MEASURE_TIMED_WORKLOAD_H_

#include "absl/status/statusor.h"

namespace hat {

class TimedWorkload {
 public:
  virtual ~TimedWorkload() = default;

  // Runs the encoder over the protocol's dummy source once and returns its latency in ms, timed
  // with the device's own clock (monotonic wall clock on CPU; synchronised on accelerators).
  virtual absl::StatusOr<double> TimeEncoderMs() = 0;

  // Runs incremental beam decoding of the protocol's steps once (on the encoder output of the
  // latest TimeEncoderMs call) and returns its latency in ms.
  virtual absl::StatusOr<double> TimeDecoderMs() = 0;
};

}  // namespace hat

#endif  // HATFLEET_MEASURE_TIMED_WORKLOAD_H_
