#pragma once
// Capped exponential backoff with optional full jitter.

#include <chrono>
#include <cstdint>
#include <functional>

namespace redisfleet {

class Backoff {
 public:
  // `jitter` returns a value in [0,1); nullptr means no jitter (deterministic, for tests).
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap,
          std::function<double()> jitter = nullptr)
      : base_(base), cap_(cap), jitter_(std::move(jitter)) {}

  // Delay before retry number `attempt` (0-based): min(cap, base * 2^attempt), jittered into
  // [d/2, d) when a jitter source is set.
  std::chrono::milliseconds Delay(int attempt) const {
    int64_t ms = base_.count();
    for (int i = 0; i < attempt && ms < cap_.count(); ++i) ms *= 2;
    if (ms > cap_.count()) ms = cap_.count();
    if (jitter_) ms = ms / 2 + static_cast<int64_t>(jitter_() * static_cast<double>(ms / 2));
    return std::chrono::milliseconds(ms);
  }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  std::function<double()> jitter_;
};

}  // namespace redisfleet
