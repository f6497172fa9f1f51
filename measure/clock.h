// Clock: monotonic time and sleeping, injectable so tests control time budgets and cool-downs.
#ifndef HATFLEET_MEASURE_CLOCK_H_
#define HATFLEET_MEASURE_CLOCK_H_

namespace hat {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual double NowSeconds() = 0;  // monotonic, arbitrary origin
  virtual void SleepSeconds(double seconds) = 0;

  // The process-wide real clock (std::chrono::steady_clock). Never null.
  static Clock* Real();
};

}  // namespace hat

#endif  // HATFLEET_MEASURE_CLOCK_H_
