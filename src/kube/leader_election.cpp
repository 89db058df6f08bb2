#include "kube/leader_election.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>

#include <fmt/format.h>

namespace redisfleet::kube {

using nlohmann::json;

std::string FormatMicroTime(TimePoint t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch());
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(us);
  const std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (us - secs).count());
}

std::string DefaultLeaderIdentity() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "unknown");
  }
  return fmt::format("{}_{}", host, static_cast<long>(getpid()));
}

LeaderElector::LeaderElector(KubeClient& client, std::shared_ptr<Clock> clock,
                             std::shared_ptr<Logger> logger, Options options, Callbacks callbacks)
    : client_(client),
      clock_(std::move(clock)),
      log_(logger ? std::move(logger) : Logger::Null()),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)) {
  if (options_.namespace_.empty()) options_.namespace_ = client_.config().namespace_name;
  if (options_.identity.empty()) options_.identity = DefaultLeaderIdentity();
  log_ = log_->With({{"lease", options_.namespace_ + "/" + options_.name},
                     {"identity", options_.identity}});
}

LeaderElector::~LeaderElector() { Stop(); }

ResourcePath LeaderElector::LeasePath() const {
  ResourcePath p;
  p.group = "coordination.k8s.io";
  p.version = "v1";
  p.plural = "leases";
  p.namespace_name = options_.namespace_;
  p.name = options_.name;
  return p;
}

Status LeaderElector::Start() {
  if (started_) return FailedPreconditionError("leader elector already started");
  using std::chrono::milliseconds;
  if (options_.name.empty()) return InvalidArgumentError("leader election: lease name is empty");
  if (options_.retry_period <= milliseconds(0) ||
      options_.renew_deadline * 10 <= options_.retry_period * 12 ||
      options_.lease_duration <= options_.renew_deadline) {
    return InvalidArgumentError(
        "leader election: need lease_duration > renew_deadline > 1.2 * retry_period > 0");
  }
  started_ = true;
  std::weak_ptr<Wake> weak = wake_;
  clock_sub_ = clock_->Subscribe([weak] {
    if (auto w = weak.lock()) {
      std::lock_guard lk(w->mu);
      w->cv.notify_all();
    }
  });
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void LeaderElector::Stop() {
  if (!started_) return;
  {
    std::lock_guard lk(wake_->mu);
    wake_->stopping = true;
  }
  wake_->cv.notify_all();
  if (thread_.joinable()) thread_.join();
  clock_->Unsubscribe(clock_sub_);
  started_ = false;
}

bool LeaderElector::IsLeader() const {
  return leading_.load() && ToRep(clock_->Now()) < leader_until_.load();
}

std::string LeaderElector::leader() const {
  std::lock_guard lk(leader_mu_);
  return leader_;
}

bool LeaderElector::SleepUntil(TimePoint deadline) {
  std::unique_lock lk(wake_->mu);
  while (!wake_->stopping) {
    const TimePoint now = clock_->Now();
    if (now >= deadline) return true;
    if (clock_->IsFake()) {
      wake_->cv.wait(lk);  // woken by the clock's Subscribe callback or by Stop
    } else {
      wake_->cv.wait_for(lk, deadline - now);
    }
  }
  return false;
}

void LeaderElector::Run() {
  log_->Info("leader election started");
  while (true) {
    const TimePoint attempt = clock_->Now();
    StatusOr<Attempt> r = TryAcquireOrRenew(attempt);
    if (leading_.load()) {
      if (r.ok() && *r == Attempt::kLeading) {
        last_renew_ = attempt;
        leader_until_.store(ToRep(attempt + options_.renew_deadline));
      } else if (r.ok()) {
        StepDown("lease held by another");
      } else if (clock_->Now() >= last_renew_ + options_.renew_deadline) {
        StepDown("renew deadline exceeded: " + r.error().ToString());
      } else {
        log_->Warn("lease renewal failed", {{"error", r.error().ToString()}});
      }
    } else if (r.ok() && *r == Attempt::kLeading) {
      BecomeLeader(attempt);
    } else if (!r.ok()) {
      log_->Debug("lease acquisition failed", {{"error", r.error().ToString()}});
    }
    TimePoint next = attempt + options_.retry_period;
    if (leading_.load() && last_renew_ + options_.renew_deadline < next) {
      next = last_renew_ + options_.renew_deadline;
    }
    if (!SleepUntil(next)) break;
  }
  if (leading_.load()) {
    leading_.store(false);
    leader_until_.store(0);
    log_->Info("stopped leading (shutdown)");
    if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
    if (options_.release_on_stop) Release();
  }
  log_->Info("leader election stopped");
}

void LeaderElector::BecomeLeader(TimePoint attempt_start) {
  last_renew_ = attempt_start;
  leader_until_.store(ToRep(attempt_start + options_.renew_deadline));
  leading_.store(true);
  log_->Info("became leader");
  if (callbacks_.on_started_leading) callbacks_.on_started_leading();
}

void LeaderElector::StepDown(std::string_view reason) {
  leading_.store(false);
  leader_until_.store(0);
  // Sit out one lease duration: treat the current record as someone else's valid lease, so a
  // replica that can still reach the API server takes over.
  observed_time_ = clock_->Now();
  log_->Warn("lost leadership", {{"reason", reason}});
  if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
}

void LeaderElector::Observe(const json& lease, TimePoint now) {
  json spec = lease.contains("spec") ? lease["spec"] : json::object();
  if (!observed_ || spec != observed_spec_) {
    observed_spec_ = spec;
    observed_time_ = now;
  }
  observed_ = lease;
  std::string holder;
  if (spec.contains("holderIdentity") && spec["holderIdentity"].is_string()) {
    holder = spec["holderIdentity"].get<std::string>();
  }
  {
    std::lock_guard lk(leader_mu_);
    leader_ = holder;
  }
  if (!holder.empty() && holder != reported_leader_) {
    reported_leader_ = holder;
    log_->Info("new leader observed", {{"holder", holder}});
    if (callbacks_.on_new_leader) callbacks_.on_new_leader(holder);
  }
}

StatusOr<LeaderElector::Attempt> LeaderElector::TryAcquireOrRenew(TimePoint now) {
  // Fast path for the leader: an optimistic PUT of the record we last wrote.
  if (leading_.load() && observed_) {
    StatusOr<Attempt> r = WriteOurs(*observed_, true, now);
    if (r.ok() || r.error().code() != StatusCode::kConflict) return r;
  }
  StatusOr<json> got = client_.Get(LeasePath());
  if (!got.ok()) {
    if (got.error().code() != StatusCode::kNotFound) return got.error();
    json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", options_.name}, {"namespace", options_.namespace_}}},
                  {"spec", json::object()}};
    lease["spec"]["leaseTransitions"] = 0;
    return WriteOurs(std::move(lease), false, now);
  }
  Observe(*got, now);
  const std::string holder = leader();
  const bool ours = holder == options_.identity;
  if (!holder.empty() && !(ours && leading_.load())) {
    const auto& spec = (*got)["spec"];
    const auto& dur_json = spec.contains("leaseDurationSeconds") ? spec["leaseDurationSeconds"]
                                                                 : json(0);
    const std::int64_t dur = dur_json.is_number_integer() ? dur_json.get<std::int64_t>() : 0;
    if (now < observed_time_ + std::chrono::seconds(dur)) return Attempt::kHeld;
  }
  StatusOr<Attempt> r = WriteOurs(*got, ours, now);
  if (!r.ok() && r.error().code() == StatusCode::kConflict) return Attempt::kHeld;
  return r;
}

StatusOr<LeaderElector::Attempt> LeaderElector::WriteOurs(json lease, bool was_ours,
                                                          TimePoint now) {
  const bool create = !lease["metadata"].contains("resourceVersion");
  json& spec = lease["spec"];
  if (!spec.is_object()) spec = json::object();
  if (!was_ours || !spec.contains("acquireTime")) spec["acquireTime"] = FormatMicroTime(now);
  if (!was_ours && !create) {
    const auto& t = spec.contains("leaseTransitions") ? spec["leaseTransitions"] : json(0);
    spec["leaseTransitions"] = (t.is_number_integer() ? t.get<std::int64_t>() : 0) + 1;
  }
  const auto secs = std::chrono::ceil<std::chrono::seconds>(options_.lease_duration).count();
  spec["holderIdentity"] = options_.identity;
  spec["leaseDurationSeconds"] = secs < 1 ? 1 : secs;
  spec["renewTime"] = FormatMicroTime(now);
  StatusOr<json> written = create ? client_.Create(LeasePath().Collection(), lease)
                                  : client_.Update(LeasePath(), lease);
  if (!written.ok()) {
    // Someone else created it first: they won this round.
    if (create && (written.error().code() == StatusCode::kAlreadyExists ||
                   written.error().code() == StatusCode::kConflict)) {
      return Attempt::kHeld;
    }
    return written.error();
  }
  Observe(*written, clock_->Now());
  return Attempt::kLeading;
}

void LeaderElector::Release() {
  if (!observed_ || leader() != options_.identity) return;
  json lease = *observed_;
  json& spec = lease["spec"];
  const std::string now = FormatMicroTime(clock_->Now());
  spec["holderIdentity"] = "";
  spec["leaseDurationSeconds"] = 1;
  spec["acquireTime"] = now;
  spec["renewTime"] = now;
  StatusOr<json> r = client_.Update(LeasePath(), lease);
  if (r.ok()) {
    log_->Info("released lease");
  } else {
    log_->Warn("lease release failed", {{"error", r.error().ToString()}});
  }
}

}  // namespace redisfleet::kube
