#pragma once
// ContainerRuntime whose Redis servers are redis-server processes on this machine, one data
// directory each under Options::root_dir. The processes are detached (double fork + setsid), so
// they outlive the operator; a restarted operator finds and adopts them from their directories.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/logging.h"
#include "providers/container_runtime.h"

namespace redisfleet::providers {

// Thread-safe: calls for different instances run concurrently, calls for one instance are
// serialized. Starts no threads. The host argument is ignored: everything runs locally.
class ProcessRuntime final : public ContainerRuntime {
 public:
  struct Options {
    std::string root_dir;                   // holds <ns>.<name>.<uid>/ per instance
    std::string redis_server = "redis-server";  // a path, or a name looked up in PATH
    std::string bind_address = "127.0.0.1";
    std::chrono::milliseconds start_timeout{10000};  // until the new server answers PING
    std::chrono::milliseconds stop_timeout{10000};   // SIGTERM grace before SIGKILL
  };

  ProcessRuntime(Options options, std::shared_ptr<Clock> clock, std::shared_ptr<Logger> logger);

  // Creates the instance directory if missing, (re)starts the server from its data when it is
  // not running, resizes it in place when its resources differ. Unavailable when the server
  // does not come up within start_timeout; InvalidArgument for a spec without uid or with a
  // name unusable as a directory name.
  StatusOr<api::Endpoint> Ensure(const Host& host, const RedisSpec& spec) override;
  // Every instance directory with a labels.json, running or not.
  StatusOr<std::vector<RunningRedis>> List(const Host& host) override;
  // CONFIG SET maxmemory/maxclients on the live server, then rewrites redis.conf and
  // labels.json; never restarts. FailedPrecondition (no change) when used memory exceeds the
  // new limit; Unavailable when the server is not running; NotFound when its directory is gone.
  Status Resize(const Host& host, const RunningRedis& redis, const RedisResources& to) override;
  // SIGTERM (SIGKILL after stop_timeout), then deletes the directory. OK if already gone.
  // Resize and Remove refuse (InvalidArgument) an id that is not a directory under root_dir.
  Status Remove(const Host& host, const RunningRedis& redis) override;

  // The pid of the instance's server when it runs (pid file names a live process whose cwd is
  // the instance directory), else nullopt. `dir` is an instance directory.
  std::optional<int> RunningPid(const std::string& dir) const;
  // The directory Ensure uses for `spec` (it may not exist yet).
  std::string InstanceDir(const RedisSpec& spec) const;

 private:
  // What labels.json records (no password).
  struct Record {
    api::Key instance;
    std::string uid;
    std::string pool_id;
    int64_t port = 0;
    RedisResources resources;
    api::Persistence persistence = api::Persistence::kAof;
    std::map<std::string, std::string> labels;
  };

  std::shared_ptr<std::mutex> InstanceMutex(const std::string& dir);
  // InvalidArgument unless `id` names a directory directly under root_dir (existing or not).
  StatusOr<std::string> CheckedDir(const std::string& id) const;
  StatusOr<Record> ReadRecord(const std::string& dir) const;
  Status WriteRecord(const std::string& dir, const Record& record) const;
  Status WriteConfig(const std::string& dir, const Record& record, const std::string& password) const;
  StatusOr<std::string> ReadPassword(const std::string& dir) const;
  RunningRedis ToRunning(const std::string& dir, const Record& record) const;
  // Starts redis-server detached and waits until it answers PING; returns its pid.
  // `exited_early` is set when the server died before answering (e.g. its port was taken).
  StatusOr<int> Start(const std::string& dir, const Record& record, const std::string& password,
                      bool* exited_early);
  StatusOr<int> Spawn(const std::string& dir);
  Status WaitReady(const std::string& dir, int pid, const Record& record,
                   const std::string& password, bool* exited_early);
  Status ResizeLocked(const std::string& dir, Record record, const RedisResources& to);
  // Brings a running server's password and persistence in line with `record`/`password`.
  Status ApplyLive(const std::string& dir, const Record& current, const Record& wanted,
                   const std::string& password);
  // Stops the server of `dir` if running; OK when it is gone.
  Status Stop(const std::string& dir);
  // Waits until `pred` holds, polling every kPollInterval, for at most `timeout` by the clock
  // (and at most timeout/kPollInterval polls, so a stopped FakeClock cannot hang it).
  bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout) const;

  Options options_;
  std::string root_;  // absolute, symlinks resolved: compared with /proc/<pid>/cwd
  std::string redis_path_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<Logger> logger_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::mutex>> instance_mu_;
};

}  // namespace redisfleet::providers
