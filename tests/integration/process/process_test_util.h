#pragma once
// Helpers shared by the process runtime and Redis client integration tests: temp roots, log
// capture, bounded waits, and the cleanup that kills every redis-server a test started.

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/fs.h"
#include "common/logging.h"
#include "providers/process/process_runtime.h"
#include "support/wait.h"

namespace redisfleet::testing {

// Polls `pred` every 10 ms until it holds or `timeout` passes; returns whether it held.
inline bool WaitFor(const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return WaitUntil(pred, timeout, std::chrono::milliseconds(10));
}

// A fresh directory under $TMPDIR (or /tmp), absolute and symlink-free.
inline std::string MakeTempRoot(const std::string& tag) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/rf-" + tag + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return "";
  return std::filesystem::canonical(buf.data()).string();
}

inline std::string ProcCwd(int pid) {
  char buf[4096];
  std::string link = "/proc/" + std::to_string(pid) + "/cwd";
  ssize_t n = ::readlink(link.c_str(), buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// Pids of live processes whose working directory is inside `root`.
inline std::vector<int> ProcessesUnder(const std::string& root) {
  std::vector<int> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    int pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == ::getpid()) continue;
    std::string cwd = ProcCwd(pid);
    if (cwd == root || cwd.rfind(root + "/", 0) == 0) out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

// SIGKILLs every process running inside `root`, waits until they are gone, removes `root`.
// Returns the pids that would not die.
inline std::vector<int> KillAllUnder(const std::string& root) {
  if (root.empty()) return {};
  for (int pid : ProcessesUnder(root)) ::kill(pid, SIGKILL);
  WaitFor([&] { return ProcessesUnder(root).empty(); });
  std::vector<int> left = ProcessesUnder(root);
  (void)RemoveAll(root);
  return left;
}

// Collects log lines so tests can check that no secret reached them. Thread-safe.
class LogCapture {
 public:
  std::shared_ptr<Logger> MakeLogger() {
    return std::make_shared<Logger>(LogFormat::kText, LogLevel::kDebug, std::make_shared<RealClock>(),
                                    [this](const std::string& line) {
                                      std::lock_guard<std::mutex> lock(mu_);
                                      lines_.push_back(line);
                                    });
  }
  std::vector<std::string> Lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  // The first line containing `needle`, or "".
  std::string Find(const std::string& needle) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& l : lines_)
      if (l.find(needle) != std::string::npos) return l;
    return "";
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

inline providers::RedisSpec MakeSpec(const std::string& name, const std::string& password,
                                     api::Persistence persistence = api::Persistence::kAof,
                                     int64_t memory_mib = 64, int64_t max_clients = 100) {
  providers::RedisSpec spec;
  spec.instance = api::Key{"default", name};
  spec.uid = "uid-" + name;
  spec.pool = providers::PoolRef{"default", "local"};
  spec.resources = providers::RedisResources{memory_mib, max_clients};
  spec.persistence = persistence;
  spec.password = password;
  spec.labels = {{std::string(api::kLabelManagedBy), "test-operator"}, {"tier", "cache"}};
  return spec;
}

}  // namespace redisfleet::testing
