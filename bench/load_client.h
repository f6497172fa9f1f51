// What the coordinator load benchmarks share: their token, call contexts, a clock and
// percentiles.
#ifndef HATFLEET_BENCH_LOAD_CLIENT_H_
#define HATFLEET_BENCH_LOAD_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "rpc/grpc_status.h"

namespace hat::bench {

inline constexpr char kToken[] = "bench";

// The value at quantile `q` (nearest rank); 0 for no values.
inline double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
}

// Seconds on a monotonic clock.
inline double NowS() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A call context with the benchmark token and a 60 s deadline.
inline void Ctx(grpc::ClientContext& ctx) {
  ctx.AddMetadata(kAuthorizationKey, BearerValue(kToken));
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
}

}  // namespace hat::bench

#endif  // HATFLEET_BENCH_LOAD_CLIENT_H_
