#include "common/clock.h"

#include <ctime>
#include <vector>

#include <fmt/format.h>

namespace redisfleet {

FakeClock::FakeClock(TimePoint start) : now_(start) {}

TimePoint FakeClock::Now() const {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

void FakeClock::Advance(Duration d) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
  }
  Notify();
}

void FakeClock::Set(TimePoint t) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    now_ = t;
  }
  Notify();
}

std::size_t FakeClock::Subscribe(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t id = next_id_++;
  listeners_.emplace(id, std::move(fn));
  return id;
}

void FakeClock::Unsubscribe(std::size_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  listeners_.erase(id);
}

void FakeClock::Notify() {
  std::vector<std::function<void()>> fns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, fn] : listeners_) fns.push_back(fn);
  }
  for (auto& fn : fns) fn();
}

std::string FormatTime(TimePoint t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::optional<TimePoint> ParseTime(const std::string& s) {
  std::tm tm{};
  int year, mon, day, hour, min, sec;
  char tail[32] = {0};
  int n = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%31s", &year, &mon, &day, &hour, &min,
                      &sec, tail);
  if (n < 6) return std::nullopt;
  std::string rest(tail);
  // Fractional seconds are dropped.
  if (!rest.empty() && rest[0] == '.') {
    std::size_t i = 1;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
    rest = rest.substr(i);
  }
  if (!(rest == "Z" || rest == "z" || rest == "+00:00" || rest.empty())) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  std::time_t secs = timegm(&tm);
  if (secs == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(secs);
}

}  // namespace redisfleet
