#pragma once
// Time comes from a Clock so tests can drive it. Wall-clock time (system_clock) because
// expiry times are persisted and shown to users.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <optional>

namespace redisfleet {

using TimePoint = std::chrono::system_clock::time_point;
using Duration = std::chrono::system_clock::duration;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  // Fake clocks call `fn` after every Advance/Set so that waiters re-check their deadlines;
  // real clocks never call it. Returns an id for Unsubscribe. Thread-safe.
  virtual std::size_t Subscribe(std::function<void()> fn) {
    (void)fn;
    return 0;
  }
  virtual void Unsubscribe(std::size_t id) { (void)id; }
  // True for a FakeClock: blocking waits must then be woken by Subscribe, not by timeouts.
  virtual bool IsFake() const { return false; }
};

class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

// Thread-safe manual clock for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1'800'000'000)));
  TimePoint Now() const override;
  void Advance(Duration d);
  void Set(TimePoint t);
  std::size_t Subscribe(std::function<void()> fn) override;
  void Unsubscribe(std::size_t id) override;
  bool IsFake() const override { return true; }

 private:
  void Notify();
  mutable std::mutex mu_;
  TimePoint now_;
  std::size_t next_id_ = 1;
  std::map<std::size_t, std::function<void()>> listeners_;
};

// RFC 3339 UTC with seconds precision: "2026-11-23T09:29:43Z".
std::string FormatTime(TimePoint t);
// Parses what FormatTime writes (fractional seconds and "+00:00" accepted).
std::optional<TimePoint> ParseTime(const std::string& s);

}  // namespace redisfleet
