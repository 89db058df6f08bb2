#pragma once
// Leader election on a coordination.k8s.io/v1 Lease (reference 4.14), after client-go's
// leaderelection: a candidate acquires the Lease when it is absent, released (empty holder) or
// expired, and the leader renews it every retry_period with a conditional PUT (resourceVersion).
// Expiry is judged on the local clock as "first observed this Lease record + its
// leaseDurationSeconds", not from the holder's renewTime, so clock skew between replicas is
// harmless. A leader that cannot renew within renew_deadline steps down (on_stopped_leading)
// and sits out one lease duration before competing again, so a healthy replica takes over.
// Stop() while leading releases the Lease (holder "", leaseDurationSeconds 1) after
// on_stopped_leading returns, so another candidate takes over at once.
//
// Thread-safety: IsLeader/leader/identity may be called from any thread. Start/Stop from one
// owner thread. Callbacks run on the elector's own thread, must return promptly and must not
// call Stop(). The KubeClient's request_timeout should be below renew_deadline - retry_period;
// IsLeader() turns false at the renew deadline even while a request hangs.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/logging.h"
#include "common/status.h"
#include "kube/client.h"

namespace redisfleet::kube {

// "2024-05-01T12:00:00.123456Z": a Kubernetes MicroTime (RFC 3339, microseconds, UTC).
std::string FormatMicroTime(TimePoint t);
// "<hostname>_<pid>".
std::string DefaultLeaderIdentity();

class LeaderElector {
 public:
  struct Options {
    std::string namespace_{};            // "" = the client's config namespace
    std::string name = "redis-fleet-leader";
    std::string identity{};              // "" = DefaultLeaderIdentity()
    std::chrono::milliseconds lease_duration{15000};
    std::chrono::milliseconds renew_deadline{10000};
    std::chrono::milliseconds retry_period{2000};
    bool release_on_stop = true;         // client-go ReleaseOnCancel
  };
  struct Callbacks {
    std::function<void()> on_started_leading{};
    // Called when leadership is lost (renew failed, or another holder won) and on Stop() while
    // leading, before the Lease is released: stop acting as leader before returning.
    std::function<void()> on_stopped_leading{};
    // Called whenever the observed holder changes to a non-empty identity (ours included).
    std::function<void(const std::string& identity)> on_new_leader{};
  };

  // `client` must outlive the elector.
  LeaderElector(KubeClient& client, std::shared_ptr<Clock> clock, std::shared_ptr<Logger> logger,
                Options options, Callbacks callbacks);
  ~LeaderElector();  // Stop()
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Starts the election loop on its own thread. InvalidArgument unless lease_duration >
  // renew_deadline > 1.2 * retry_period > 0 and the name is set; FailedPrecondition if started.
  Status Start();
  // Stops the loop and joins it; releases the Lease first when leading and release_on_stop.
  // Idempotent.
  void Stop();

  // True while we hold the Lease and the last successful renewal is within renew_deadline.
  bool IsLeader() const;
  // The last observed holder ("" when none or not yet known).
  std::string leader() const;
  const std::string& identity() const { return options_.identity; }

 private:
  enum class Attempt { kHeld, kLeading };
  void Run();
  // One client-go tryAcquireOrRenew: kLeading when we hold the Lease after it, kHeld when
  // someone else validly holds it (or won a race); an error when the API call failed. `now`
  // (taken before the first request) is both what we write and what expiry is judged by.
  StatusOr<Attempt> TryAcquireOrRenew(TimePoint now);
  StatusOr<Attempt> WriteOurs(nlohmann::json lease, bool was_ours, TimePoint now);
  void Observe(const nlohmann::json& lease, TimePoint now);
  void BecomeLeader(TimePoint attempt_start);
  void StepDown(std::string_view reason);
  void Release();
  // Waits until the clock reaches `deadline` or Stop; false when stopping.
  bool SleepUntil(TimePoint deadline);
  ResourcePath LeasePath() const;
  std::int64_t ToRep(TimePoint t) const { return t.time_since_epoch().count(); }

  KubeClient& client_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<Logger> log_;
  Options options_;
  Callbacks callbacks_;

  // Shared with the clock's Subscribe callback, which may outlive Unsubscribe by a moment.
  struct Wake {
    std::mutex mu;
    std::condition_variable cv;
    bool stopping = false;  // guarded by mu
  };
  std::shared_ptr<Wake> wake_ = std::make_shared<Wake>();
  std::thread thread_;
  std::size_t clock_sub_ = 0;
  bool started_ = false;

  // Read by IsLeader from any thread.
  std::atomic<bool> leading_{false};
  std::atomic<std::int64_t> leader_until_{0};  // TimePoint rep: last renew + renew_deadline

  mutable std::mutex leader_mu_;
  std::string leader_{};  // guarded by leader_mu_

  // Loop thread only.
  std::optional<nlohmann::json> observed_{};  // the last Lease read or written
  nlohmann::json observed_spec_{};
  TimePoint observed_time_{};
  TimePoint last_renew_{};
  std::string reported_leader_{};
};

}  // namespace redisfleet::kube
