#include "runtime/manager.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace redisfleet::runtime {
namespace {

// A Controller as a Runnable; remembers whether its Stop drained in time.
class ControllerRunnable final : public Runnable {
 public:
  explicit ControllerRunnable(std::shared_ptr<Controller> controller)
      : controller_(std::move(controller)) {}
  Status Start() override { return controller_->Start(); }
  void Stop(std::chrono::milliseconds timeout) override { drained_ = controller_->Stop(timeout); }
  bool drained() const { return drained_; }

 private:
  std::shared_ptr<Controller> controller_;
  std::atomic<bool> drained_{true};
};

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

std::string SignalName(int signo) {
  switch (signo) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    default:
      return std::to_string(signo);
  }
}

}  // namespace

Manager::Manager(std::shared_ptr<Logger> log, std::chrono::milliseconds rollback_timeout)
    : log_(log ? std::move(log) : Logger::Null()),
      rollback_timeout_(rollback_timeout),
      stop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (stop_fd_ < 0) {
    log_->Warn("eventfd failed; RunUntilSignal will poll for RequestStop",
               {{"error", std::strerror(errno)}});
  }
}

Manager::~Manager() {
  (void)Stop(rollback_timeout_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

void Manager::Add(std::shared_ptr<Runnable> runnable) {
  std::lock_guard<std::mutex> lock(mu_);
  runnables_.push_back(std::move(runnable));
}

std::shared_ptr<Runnable> ControllerAsRunnable(std::shared_ptr<Controller> controller) {
  return std::make_shared<ControllerRunnable>(std::move(controller));
}

void Manager::AddController(std::shared_ptr<Controller> controller) {
  Add(std::make_shared<ControllerRunnable>(std::move(controller)));
}

Status Manager::Start() {
  std::vector<std::shared_ptr<Runnable>> runnables;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (start_called_) return FailedPreconditionError("manager already started");
    start_called_ = true;
    runnables = runnables_;
  }
  for (std::size_t i = 0; i < runnables.size(); ++i) {
    Status s = runnables[i]->Start();
    if (!s.ok()) {
      log_->Error("start failed; stopping what was started",
                  {{"index", i}, {"error", s.ToString()}});
      (void)Stop(rollback_timeout_);
      return s;
    }
    std::lock_guard<std::mutex> lock(mu_);
    started_ = i + 1;
  }
  return Status::Ok();
}

bool Manager::Stop(std::chrono::milliseconds total_timeout) {
  std::vector<std::shared_ptr<Runnable>> to_stop;
  {
    std::lock_guard<std::mutex> lock(mu_);
    to_stop.assign(runnables_.begin(), runnables_.begin() + static_cast<std::ptrdiff_t>(started_));
    started_ = 0;
  }
  const auto deadline = std::chrono::steady_clock::now() + total_timeout;
  bool drained = true;
  for (auto it = to_stop.rbegin(); it != to_stop.rend(); ++it) {
    const auto left = std::max(std::chrono::milliseconds::zero(),
                               std::chrono::duration_cast<std::chrono::milliseconds>(
                                   deadline - std::chrono::steady_clock::now()));
    (*it)->Stop(left);
    if (const auto* c = dynamic_cast<const ControllerRunnable*>(it->get()); c && !c->drained()) {
      drained = false;
    }
  }
  if (std::chrono::steady_clock::now() > deadline) drained = false;
  return drained;
}

void Manager::BlockSignals() {
  sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int Manager::RunUntilSignal(std::chrono::milliseconds drain_timeout) {
  sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::string reason = "stop requested";
  const int sfd = ::signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd >= 0 && stop_fd_ >= 0) {
    pollfd fds[2] = {{sfd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    while (true) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        log_->Error("poll failed; stopping", {{"error", std::strerror(errno)}});
        reason = "poll failed";
        break;
      }
      if (fds[0].revents & POLLIN) {
        signalfd_siginfo info{};
        if (::read(sfd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
          reason = SignalName(static_cast<int>(info.ssi_signo));
        }
        break;
      }
      // The eventfd is left readable so that later calls return at once too.
      if (fds[1].revents & POLLIN) break;
    }
  } else {
    log_->Warn("signalfd unavailable; waiting with sigtimedwait");
    const timespec tick{0, 100'000'000};
    while (true) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_requested_) break;
      }
      siginfo_t info{};
      const int signo = ::sigtimedwait(&set, &info, &tick);
      if (signo > 0) {
        reason = SignalName(signo);
        break;
      }
    }
  }
  if (sfd >= 0) ::close(sfd);
  log_->Info("shutting down", {{"reason", reason},
                               {"drain_timeout_ms", static_cast<int64_t>(drain_timeout.count())}});
  const bool drained = Stop(drain_timeout);
  if (!drained) log_->Warn("shutdown did not drain in time");
  return drained ? 0 : 1;
}

void Manager::RequestStop() {
  std::lock_guard<std::mutex> lock(mu_);
  stop_requested_ = true;
  if (stop_fd_ >= 0) {
    const uint64_t one = 1;
    ssize_t n = ::write(stop_fd_, &one, sizeof(one));
    (void)n;
  }
}

}  // namespace redisfleet::runtime
