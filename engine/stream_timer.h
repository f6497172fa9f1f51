// StreamTimer: times one run of a workload on its device. On CPU, the monotonic wall clock. On
// CUDA, events recorded on the current stream when this LibTorch was built with CUDA and the
// CUDA headers were found at build time (HAT_CUDA_EVENTS); otherwise the wall clock with the
// device synchronised before and after, which is what HAT's own measurement does. The method
// used is stored with every measurement (TimingMethod).
#ifndef HATFLEET_ENGINE_STREAM_TIMER_H_
#define HATFLEET_ENGINE_STREAM_TIMER_H_

#include <chrono>
#include <memory>

#include "measure/timed_workload.h"

namespace hat {

class StreamTimer {
 public:
  explicit StreamTimer(bool cuda);
  ~StreamTimer();
  StreamTimer(const StreamTimer&) = delete;
  StreamTimer& operator=(const StreamTimer&) = delete;

  // Marks the start: on CUDA, after the work queued so far (it is waited for).
  void Start();
  // Milliseconds since Start(), once the work queued since has finished. May throw c10::Error:
  // call it inside CallTorch.
  double StopMs();

  TimingMethod method() const;

 private:
  struct CudaEvents;  // defined only in CUDA builds
  bool cuda_;
  std::unique_ptr<CudaEvents> events_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace hat

#endif  // HATFLEET_ENGINE_STREAM_TIMER_H_
