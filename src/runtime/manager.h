#pragma once
// The Manager starts the process's long-running parts in order, stops them in reverse order, and
// turns SIGTERM/SIGINT (or RequestStop) into a bounded, draining shutdown.

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "common/logging.h"
#include "common/status.h"
#include "runtime/controller.h"

namespace redisfleet::runtime {

// Something the Manager starts and stops: a store, a server, a controller.
class Runnable {
 public:
  virtual ~Runnable() = default;
  // Starts it; on error nothing of it may be left running.
  virtual Status Start() = 0;
  // Stops it within about `timeout` (real time); called once, only after a successful Start.
  virtual void Stop(std::chrono::milliseconds timeout) = 0;
};

// `controller` as a Runnable whose Stop drains in-flight reconciles (what AddController adds),
// for owners other than the Manager (e.g. a leader-only group).
std::shared_ptr<Runnable> ControllerAsRunnable(std::shared_ptr<Controller> controller);

// Thread-safe. Runnables are added before Start.
class Manager {
 public:
  explicit Manager(std::shared_ptr<Logger> log,
                   std::chrono::milliseconds rollback_timeout = std::chrono::seconds(10));
  // Stops whatever is still running (with the rollback timeout).
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  void Add(std::shared_ptr<Runnable> runnable);
  // Adds `controller` as a Runnable whose Stop drains in-flight reconciles.
  void AddController(std::shared_ptr<Controller> controller);

  // Starts the runnables in the order added. When one fails, stops the started ones in reverse
  // order and returns its error. FailedPrecondition if called twice.
  Status Start();
  // Stops the started runnables in reverse order, sharing `total_timeout` (real time) between
  // them. True when every controller drained and all stopped within the time. Idempotent.
  bool Stop(std::chrono::milliseconds total_timeout);

  // Blocks SIGTERM and SIGINT in the calling thread. Call it at the top of main, before any
  // thread exists, so that every thread inherits the mask and the signals wait for
  // RunUntilSignal instead of killing the process.
  static void BlockSignals();
  // Waits for SIGTERM or SIGINT (sent to the process or to this thread) or for RequestStop, then
  // Stop(drain_timeout). Returns 0 if everything drained in time, else 1. Blocks the signals in
  // the calling thread too (see BlockSignals for the other threads).
  int RunUntilSignal(std::chrono::milliseconds drain_timeout);
  // Makes RunUntilSignal return (now or as soon as it is called), e.g. on lost leadership.
  void RequestStop();

 private:
  std::shared_ptr<Logger> log_;
  std::chrono::milliseconds rollback_timeout_;
  int stop_fd_ = -1;  // eventfd written by RequestStop

  std::mutex mu_;
  std::vector<std::shared_ptr<Runnable>> runnables_;
  std::size_t started_ = 0;  // runnables_[0, started_) are running
  bool start_called_ = false;
  bool stop_requested_ = false;
};

}  // namespace redisfleet::runtime
