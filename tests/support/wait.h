#pragma once
// The tests' one way to wait: poll a condition until it holds or a deadline passes. Never a
// fixed sleep standing in for synchronisation; the poll period is only how often we look.

#include <chrono>
#include <functional>
#include <thread>

namespace redisfleet::testing {

// Polls `cond` every `poll` until it holds or `timeout` passes. Returns whether it held (it is
// checked once more at the deadline).
inline bool WaitUntil(const std::function<bool()>& cond,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20),
                      std::chrono::milliseconds poll = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(poll);
  }
  return cond();
}

}  // namespace redisfleet::testing
