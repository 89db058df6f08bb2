#pragma once
// The real `redis-fleet run` operator as a child process of an integration test, and readers of
// what it recorded in its state directory (store::DirStore::ReadState), so each test that runs
// the binary does not carry its own copy of start / wait for /readyz / kill -9 / log collection.

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/types.h"
#include "support/harness.h"

namespace redisfleet::testing {

// The objects of one kind a state directory holds, by metadata.name (the tests keep to one
// namespace). Empty when the state can't be read (not written yet, or a record failing to decode).
std::map<std::string, api::RedisInstance> ReadInstances(const std::string& state_dir);
std::map<std::string, api::HostPool> ReadHostPools(const std::string& state_dir);
std::map<std::string, api::ScalingPolicy> ReadScalingPolicies(const std::string& state_dir);
// The password the operator wrote for instance default/<name> (<state>/secrets/default.<name>/
// password); "" when there is none.
std::string ReadPassword(const std::string& state_dir, const std::string& name);
// How many RedisInstances are in phase Ready.
int ReadyCount(const std::string& state_dir);

// "it-<pid>-<n>", n counting calls in this process: an operator id no other test's matches, for
// labels on resources shared between tests (Docker daemons, cloud fakes).
std::string UniqueOperatorId();

// One operator over `dir` (resources) and `state_dir`, restartable. Each Start runs
//   <REDISFLEET_BIN> run --dir <dir> --state-dir <state_dir> --health-addr 127.0.0.1:<health>
//     --metrics-addr 127.0.0.1:<metrics> [--operator-id <id>] <extra args...> --log-level debug
// with its output in <root>/operator-<n>.log (n = 1, 2, ... per start). The two ports are picked
// once, at construction, and kept across restarts. The constructor creates `dir`.
// Not thread-safe; the destructor kills a running operator (SIGKILL).
class OperatorProcess {
 public:
  // How much of the log failure messages carry (LogTail's default).
  static constexpr std::size_t kLogTail = 20000;

  // operator_id "": no --operator-id flag (the binary's default).
  OperatorProcess(std::string root, std::string dir, std::string state_dir, std::string operator_id = "");
  ~OperatorProcess();
  OperatorProcess(const OperatorProcess&) = delete;
  OperatorProcess& operator=(const OperatorProcess&) = delete;

  // Starts the binary (killing a previous start still running) and waits up to 20 s for /readyz
  // to answer 200. A failure says why (timeout, or the exit status when it exited first);
  // callers add Log() or LogTail() to the message.
  ::testing::AssertionResult Start(std::vector<std::string> extra_args = {});
  // SIGKILL, then reaps it (up to 10 s). No-op when not started.
  void Kill9();
  // SIGTERM, then waits up to `timeout` for the exit: its status (see Child::Wait; the status it
  // already exited with, unsignalled), or nullopt when it did not exit in time (then it is
  // SIGKILLed) or was not started.
  std::optional<int> Terminate(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Started, not yet killed or terminated, and the process is alive.
  bool running() const;

  // Every start's output, in order.
  std::string Log() const;
  // The last `max_chars` of Log().
  std::string LogTail(std::size_t max_chars = kLogTail) const;

  int health_port() const { return health_port_; }
  int metrics_port() const { return metrics_port_; }
  const std::string& dir() const { return dir_; }
  const std::string& state_dir() const { return state_dir_; }
  const std::string& operator_id() const { return operator_id_; }

  // The Read* functions above on this operator's state dir.
  std::map<std::string, api::RedisInstance> Instances() const { return ReadInstances(state_dir_); }
  std::map<std::string, api::HostPool> Pools() const { return ReadHostPools(state_dir_); }
  std::map<std::string, api::ScalingPolicy> Policies() const { return ReadScalingPolicies(state_dir_); }
  std::optional<api::RedisInstance> Instance(const std::string& name) const;
  std::optional<api::HostPool> Pool(const std::string& name) const;
  std::optional<api::ScalingPolicy> Policy(const std::string& name) const;
  std::string Password(const std::string& name) const { return ReadPassword(state_dir_, name); }
  int ReadyCount() const { return testing::ReadyCount(state_dir_); }

 private:
  std::string root_;
  std::string dir_;
  std::string state_dir_;
  std::string operator_id_;
  int health_port_;
  int metrics_port_;
  int starts_ = 0;
  std::unique_ptr<Child> child_;
};

}  // namespace redisfleet::testing
