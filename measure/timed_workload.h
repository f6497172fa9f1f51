// TimedWorkload: what the measurement library times. The inference engine implements it for a
// SubTransformer on a device; tests implement it with scripted durations. Keeping LibTorch behind
// this interface lets the protocol logic be tested without a model.
#ifndef HATFLEET_MEASURE_TIMED_WORKLOAD_H_
#define HATFLEET_MEASURE_TIMED_WORKLOAD_H_

#include "absl/status/statusor.h"

namespace hat {

// How a workload's latencies were timed; stored with every measurement, since the methods differ
// in what they include (wall time includes the host's launch and synchronisation overhead, CUDA
// events time the GPU stream only).
enum class TimingMethod {
  kWallClock,              // CPU: monotonic wall clock around the run
  kSynchronizedWallClock,  // accelerator: wall clock, the device synchronised before and after
  kCudaEvents,             // CUDA events recorded on the stream around the run
};

// "wall_clock", "synchronized_wall_clock", "cuda_events".
const char* TimingMethodName(TimingMethod method);

class TimedWorkload {
 public:
  virtual ~TimedWorkload() = default;

  // Runs the encoder over the protocol's dummy source once and returns its latency in ms, timed
  // with the device's own clock (monotonic wall clock on CPU; synchronised on accelerators).
  virtual absl::StatusOr<double> TimeEncoderMs() = 0;

  // Runs incremental beam decoding of the protocol's steps once (on the encoder output of the
  // latest TimeEncoderMs call) and returns its latency in ms.
  virtual absl::StatusOr<double> TimeDecoderMs() = 0;

  // How the two methods above time.
  virtual TimingMethod timing_method() const { return TimingMethod::kWallClock; }
};

}  // namespace hat

#endif  // HATFLEET_MEASURE_TIMED_WORKLOAD_H_
