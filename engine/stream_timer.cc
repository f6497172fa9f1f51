// StreamTimer; see stream_timer.h.
#include "engine/stream_timer.h"

#include <torch/cuda.h>

#if HAT_CUDA_EVENTS
#include <ATen/cuda/CUDAEvent.h>
#endif

namespace hat {

#if HAT_CUDA_EVENTS
struct StreamTimer::CudaEvents {
  // cudaEventDefault: timing enabled (CUDAEvent's default flag disables it).
  at::cuda::CUDAEvent start{cudaEventDefault};
  at::cuda::CUDAEvent stop{cudaEventDefault};
};
#else
struct StreamTimer::CudaEvents {};
#endif

StreamTimer::StreamTimer(bool cuda) : cuda_(cuda) {
#if HAT_CUDA_EVENTS
  if (cuda_) events_ = std::make_unique<CudaEvents>();
#endif
}

StreamTimer::~StreamTimer() = default;

TimingMethod StreamTimer::method() const {
  if (!cuda_) return TimingMethod::kWallClock;
  return events_ ? TimingMethod::kCudaEvents : TimingMethod::kSynchronizedWallClock;
}

void StreamTimer::Start() {
  if (cuda_) torch::cuda::synchronize();  // earlier work must not count
#if HAT_CUDA_EVENTS
  if (events_) {
    events_->start.record();
    return;
  }
#endif
  start_ = std::chrono::steady_clock::now();
}

double StreamTimer::StopMs() {
#if HAT_CUDA_EVENTS
  if (events_) {
    events_->stop.record();
    events_->stop.synchronize();
    return events_->start.elapsed_time(events_->stop);
  }
#endif
  if (cuda_) torch::cuda::synchronize();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_)
      .count();
}

}  // namespace hat
