#pragma once
// Helpers for the store tests: temp directories, event recording, YAML snippets.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/types.h"
#include "store/object_store.h"
#include "support/wait.h"

namespace redisfleet::store::testing {

// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/store_test.XXXXXX";
    char* made = ::mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Records watch events; waits for them with a deadline.
class EventRecorder {
 public:
  std::function<void(const Event&)> Handler() {
    return [this](const Event& e) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(e);
      cv_.notify_all();
    };
  }
  // True once an event of `type` for `key` has been recorded (since the last Clear).
  bool WaitFor(EventType type, const std::string& key,
               std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, deadline, [&] { return CountLocked(type, key) > 0; });
  }
  int Count(EventType type, const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    return CountLocked(type, key);
  }
  std::vector<Event> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    events_.clear();
  }

 private:
  int CountLocked(EventType type, const std::string& key) const {
    int n = 0;
    for (const auto& e : events_)
      if (e.type == type && e.key.ToString() == key) ++n;
    return n;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
};

// Polls `condition` until it holds or `deadline` passes; returns whether it held.
inline bool WaitUntil(const std::function<bool()>& condition,
                      std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
  return redisfleet::testing::WaitUntil(condition, deadline);
}

inline std::string InstanceYaml(const std::string& name, int memory_mib = 64,
                                const std::string& label = "") {
  std::string out =
      "apiVersion: redisfleet.io/v1alpha1\nkind: RedisInstance\nmetadata:\n  name: " + name +
      "\n  namespace: default\n";
  if (!label.empty()) out += "  labels:\n    tier: " + label + "\n";
  out += "spec:\n  hostPool: local\n  memoryMiB: " + std::to_string(memory_mib) + "\n";
  return out;
}

inline std::string PoolYaml(const std::string& name) {
  return "apiVersion: redisfleet.io/v1alpha1\nkind: HostPool\nmetadata:\n  name: " + name +
         "\nspec:\n  provider: local\n  runtime: process\n";
}

inline std::string Docs(const std::vector<std::string>& docs) {
  std::string out;
  for (const auto& d : docs) out += "---\n" + d;
  return out;
}

}  // namespace redisfleet::store::testing
