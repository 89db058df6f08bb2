// DigitalOcean elastic pool: what the HostPool costs in API calls, against the in-process fake
// DigitalOcean (tests/fakes/digitalocean) through the real Client and DropletHostProvider, with
// the real HostPool and RedisInstance reconcilers over a MemoryStore and a MemoryRuntime (no
// Docker: past the API nothing is real here). Pool: provider digitalocean, runtime docker,
// capacity {2 instances, 1024 MiB} per host, minHosts 0, standbyHosts 1, scaleInDelay 60 s.
//
//  1. Idle hour (FakeClock shared by Client, provider and reconcilers; droplets active at once):
//     a pool settled at its standby, then 3,600 s of fake time with the HostPool reconciled every
//     resync (15 s) and each placed RedisInstance reconciled every 15 s too. Requests the fake saw
//     in that hour, by route. Two pools: 20 instances on 10 full droplets + the standby (maxHosts
//     11 so that the standby fits), and an empty pool (the standby only).
//  2. Per scaling event (FakeClock; the fake's active delay is real time, so fake time is paced:
//     1 fake second = 10 ms real and a 300 ms delay reads as 30 s of fake time): from a settled
//     pool, (a) scale out: an instance lands on the standby, counted until the new droplet is
//     Ready (3 events, a second "filler" instance fills each host between events, uncounted);
//     (b) scale in: every instance deleted, counted until one standby is left.
//  3. Standby used -> create call (RealClock, runtime::Controller for both kinds, 2 workers,
//     wired with ConnectControllers): instances applied one at a time, each landing on the
//     standby; wall time from MemoryStore::Apply to the fake receiving POST /v2/droplets (the
//     fake's log timestamp). The provider's busy_refresh and the pool's scaling_requeue are cut
//     to 500 ms here so that the next standby is Ready sooner between events (neither lies on
//     the measured path: the pool is idle, at its 15 s resync, when an instance arrives).
//
//   bench_do_pool [events]      events for figure 3 (default 20)
// Figure 3 stops early (and says so) once it has run 100 s.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "api/types.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/random.h"
#include "controllers/hostpool/reconciler.h"
#include "controllers/pools.h"
#include "controllers/redisinstance/reconciler.h"
#include "controllers/wiring.h"
#include "fakes/digitalocean/fake_digitalocean.h"
#include "providers/digitalocean/client.h"
#include "providers/digitalocean/droplet_provider.h"
#include "providers/memory/memory_runtime.h"
#include "runtime/controller.h"
#include "store/file_secrets.h"
#include "store/memory_store.h"
#include "support/wait.h"

namespace redisfleet {
namespace {

using fakes::FakeDigitalOcean;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

constexpr char kNs[] = "default";
constexpr char kPool[] = "do";
constexpr char kToken[] = "dop_v1_bench_0123456789abcdef";

const api::Key kPoolKey{kNs, kPool};

api::HostPool MakePool(int64_t max_hosts) {
  api::HostPool p;
  p.metadata.name = kPool;
  p.metadata.namespace_ = kNs;
  p.spec.provider = api::HostProviderType::kDigitalOcean;
  p.spec.runtime = api::RuntimeType::kDocker;
  p.spec.capacity = {2, 1024};
  p.spec.min_hosts = 0;
  p.spec.max_hosts = max_hosts;
  p.spec.standby_hosts = 1;
  p.spec.scale_in_delay_seconds = 60;
  return p;
}

api::RedisInstance MakeInstance(const std::string& name) {
  api::RedisInstance ri;
  ri.metadata.name = name;
  ri.metadata.namespace_ = kNs;
  ri.spec.host_pool = kPool;
  ri.spec.memory_mib = 64;
  return ri;
}

// "GET /v2/droplets?tag_name=<pool tag>" style keys for the breakdown.
std::string RouteKey(const FakeDigitalOcean::LogEntry& e) {
  std::string k = e.method + " " + e.route;
  if (e.method == "GET" && e.route == "/v2/droplets") {
    if (e.path.find("redisfleet-pool") != std::string::npos) k += " (pool tag)";
    else if (e.path.find("redisfleet-managed-by") != std::string::npos) k += " (managed-by tag)";
  }
  if (e.status != 200 && e.status != 202 && e.status != 204) k += fmt::format(" [{}]", e.status);
  return k;
}

// Requests in the fake's log: total and "route n, route n" breakdown.
std::pair<int64_t, std::string> Tally(const std::vector<FakeDigitalOcean::LogEntry>& log) {
  std::map<std::string, int64_t> by;
  for (const auto& e : log) ++by[RouteKey(e)];
  std::string s;
  for (const auto& [k, n] : by) s += fmt::format("{}{}: {}", s.empty() ? "" : ", ", k, n);
  return {static_cast<int64_t>(log.size()), s.empty() ? "none" : s};
}

// The fake, the client and provider on it, and the reconcilers over a MemoryStore.
struct World {
  World(std::shared_ptr<Clock> clk, milliseconds active_delay,
        digitalocean::DropletProviderOptions popts = {},
        controllers::HostPoolOptions hopts = {}) : clock(std::move(clk)) {
    FakeDigitalOcean::Options fo;
    fo.token = kToken;
    fo.active_delay = active_delay;
    fo.worker_threads = 4;
    fake = std::make_unique<FakeDigitalOcean>(fo);
    if (Status s = fake->Start("127.0.0.1:0"); !s.ok()) {
      std::fprintf(stderr, "cannot start the fake DigitalOcean: %s\n", s.ToString().c_str());
      std::exit(1);
    }
    digitalocean::ClientOptions co;
    co.api_url = fake->url();
    co.token = kToken;
    co.timeout = milliseconds(10000);
    std::function<void(milliseconds)> sleep;
    if (clock->IsFake()) {
      auto fc = std::static_pointer_cast<FakeClock>(clock);
      sleep = [fc](milliseconds d) { fc->Advance(d); };
    }
    client = std::make_shared<digitalocean::Client>(co, clock, sleep, std::make_shared<SeededRandom>(3));
    popts.ping = [](const providers::Host&) { return Status::Ok(); };
    provider = std::make_shared<digitalocean::DropletHostProvider>(client, popts, clock);
    pools = std::make_shared<controllers::PoolRegistry>(
        [p = provider, rt = runtime](const api::HostPool&) -> StatusOr<controllers::PoolDrivers> {
          return controllers::PoolDrivers{p, rt};
        });
    store = std::make_shared<store::MemoryStore>(clock);
    ri = std::make_shared<controllers::RedisInstanceReconciler>(
        store, secrets, pools, ledger, nullptr, nullptr, clock, std::make_shared<SeededRandom>(7),
        Logger::Null());
    hp = std::make_shared<controllers::HostPoolReconciler>(store, pools, ledger, clock, Logger::Null(),
                                                           std::move(hopts));
  }

  api::HostPool Pool() {
    auto got = store->Get(api::Kind::kHostPool, kPoolKey);
    return got ? std::get<api::HostPool>(*got) : api::HostPool{};
  }
  // `hosts` hosts, all Ready, exactly one of them an empty standby.
  bool Settled(std::size_t hosts) {
    const auto p = Pool();
    if (p.status.hosts.size() != hosts || p.status.standby_hosts != 1) return false;
    for (const auto& h : p.status.hosts)
      if (h.state != api::HostState::kReady) return false;
    return true;
  }
  int64_t ReadyInstances() {
    int64_t n = 0;
    if (auto all = store->List(api::Kind::kRedisInstance)) {
      for (const auto& o : *all)
        if (std::get<api::RedisInstance>(o).status.phase == api::Phase::kReady) ++n;
    }
    return n;
  }
  int64_t Instances() {
    auto all = store->List(api::Kind::kRedisInstance);
    return all ? static_cast<int64_t>(all->size()) : -1;
  }

  std::shared_ptr<Clock> clock;
  std::unique_ptr<FakeDigitalOcean> fake;
  std::shared_ptr<digitalocean::Client> client;
  std::shared_ptr<digitalocean::DropletHostProvider> provider;
  std::shared_ptr<providers::MemoryRuntime> runtime = std::make_shared<providers::MemoryRuntime>();
  std::shared_ptr<store::MemoryStore> store;
  std::shared_ptr<store::MemorySecretStore> secrets = std::make_shared<store::MemorySecretStore>();
  std::shared_ptr<controllers::UsageLedger> ledger = std::make_shared<controllers::UsageLedger>();
  std::shared_ptr<controllers::PoolRegistry> pools;
  std::shared_ptr<controllers::RedisInstanceReconciler> ri;
  std::shared_ptr<controllers::HostPoolReconciler> hp;
};

// Drives the reconcilers on a FakeClock as the controllers would: each key at the time its last
// reconcile asked for (an error: 1 s later; no requeue: the 30 s controller resync), keys touched
// by an event at the next step, instances before the pool. With `real_ms_per_s` > 0, fake time
// is paced against real time (the fake's active delay is real time).
class Driver {
 public:
  Driver(World& w, std::shared_ptr<FakeClock> clock, int real_ms_per_s)
      : w_(w), clock_(std::move(clock)), pace_(real_ms_per_s), real_start_(Steady::now()),
        fake_start_(clock_->Now()) {}

  void Touch(const api::Key& instance) { due_[instance] = TimePoint{}; }
  void TouchPool() { pool_due_ = TimePoint{}; }

  void Step() {
    clock_->Advance(seconds(1));
    if (pace_ > 0) {
      std::this_thread::sleep_until(real_start_ + milliseconds(pace_) *
                                                      std::chrono::duration_cast<seconds>(clock_->Now() - fake_start_).count());
    }
    const TimePoint now = clock_->Now();
    for (auto it = due_.begin(); it != due_.end();) {
      if (it->second > now) {
        ++it;
        continue;
      }
      auto r = w_.ri->Reconcile(it->first);
      if (!w_.store->Get(api::Kind::kRedisInstance, it->first)) {
        it = due_.erase(it);
        continue;
      }
      it->second = Next(r, now);
      ++it;
    }
    if (pool_due_ <= now) pool_due_ = Next(w_.hp->Reconcile(kPoolKey), now);
  }

  // Steps until `done` holds; false after `limit` steps.
  bool Until(const std::function<bool()>& done, int limit) {
    for (int i = 0; i < limit; ++i) {
      if (done()) return true;
      Step();
    }
    return done();
  }

  TimePoint now() const { return clock_->Now(); }

 private:
  static TimePoint Next(const StatusOr<runtime::Result>& r, TimePoint now) {
    if (!r.ok()) return now + seconds(1);
    if (r->requeue_after.count() > 0) return now + r->requeue_after;
    return now + seconds(30);
  }

  World& w_;
  std::shared_ptr<FakeClock> clock_;
  int pace_;
  Steady::time_point real_start_;
  TimePoint fake_start_;
  std::map<api::Key, TimePoint> due_;
  TimePoint pool_due_{};
};

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "bench_do_pool: %s\n", what.c_str());
  std::exit(1);
}

void Apply(World& w, api::Object o) {
  if (Status s = w.store->Apply(std::move(o)); !s.ok()) Fail("apply: " + s.ToString());
}

// Figure 1.
void IdleHour(int instances) {
  auto clock = std::make_shared<FakeClock>(std::chrono::system_clock::now());
  World w(clock, milliseconds(0));
  Driver d(w, clock, 0);
  const std::size_t hosts = static_cast<std::size_t>((instances + 1) / 2 + 1);
  Apply(w, MakePool(static_cast<int64_t>(hosts)));
  d.TouchPool();
  for (int i = 0; i < instances; ++i) {
    Apply(w, MakeInstance(fmt::format("r{}", i)));
    d.Touch(api::Key{kNs, fmt::format("r{}", i)});
  }
  if (!d.Until([&] { return w.ReadyInstances() == instances && w.Settled(hosts); }, 3600))
    Fail(fmt::format("the pool with {} instances did not settle", instances));

  w.fake->ClearLog();
  const int64_t sent_before = w.client->requests_sent();
  for (int t = 0; t < 3600 / 15; ++t) {
    clock->Advance(seconds(15));
    (void)w.hp->Reconcile(kPoolKey);
    for (int i = 0; i < instances; ++i) (void)w.ri->Reconcile(api::Key{kNs, fmt::format("r{}", i)});
  }
  if (!w.Settled(hosts) || w.ReadyInstances() != instances) Fail("the idle pool changed");
  auto [total, by] = Tally(w.fake->RequestLog());
  std::printf("idle hour, %d instances on %zu droplets (%zu standby): %lld API requests/h (target < 60; client sent %lld): %s\n",
              instances, hosts, std::size_t{1}, static_cast<long long>(total),
              static_cast<long long>(w.client->requests_sent() - sent_before), by.c_str());
}

// Figure 2.
void ScalingEvents() {
  constexpr int kPace = 10;  // real ms per fake second
  auto clock = std::make_shared<FakeClock>(std::chrono::system_clock::now());
  World w(clock, milliseconds(0));
  Driver d(w, clock, kPace);
  Apply(w, MakePool(10));
  d.TouchPool();
  if (!d.Until([&] { return w.Settled(1); }, 600)) Fail("the empty pool did not settle");
  w.fake->SetActiveDelay(milliseconds(30 * kPace));  // 30 s of fake time

  constexpr int kEvents = 3;
  int64_t out_total = 0;
  std::string out_detail;
  for (int e = 1; e <= kEvents; ++e) {
    w.fake->ClearLog();
    const TimePoint start = d.now();
    const api::Key key{kNs, fmt::format("s{}", e)};
    Apply(w, MakeInstance(key.name));
    d.Touch(key);
    d.TouchPool();
    if (!d.Until([&] { return w.ReadyInstances() == 2 * e - 1 && w.Settled(static_cast<std::size_t>(e + 1)); }, 600))
      Fail(fmt::format("scale-out {} did not finish", e));
    auto [n, by] = Tally(w.fake->RequestLog());
    out_total += n;
    std::printf("scale out %d (standby used -> new droplet Ready, active after 30 s): %lld API requests in %lld s of fake time: %s\n",
                e, static_cast<long long>(n),
                static_cast<long long>(std::chrono::duration_cast<seconds>(d.now() - start).count()), by.c_str());
    // Fill the used host so that the next instance lands on the new standby.
    const api::Key filler{kNs, fmt::format("f{}", e)};
    Apply(w, MakeInstance(filler.name));
    d.Touch(filler);
    d.TouchPool();
    if (!d.Until([&] { return w.ReadyInstances() == 2 * e && w.Settled(static_cast<std::size_t>(e + 1)); }, 600))
      Fail(fmt::format("filler {} did not settle", e));
  }
  std::printf("scale out: %.1f API requests per event (mean of %d)\n",
              static_cast<double>(out_total) / kEvents, kEvents);

  // Scale in: every instance deleted; back to one standby after scaleInDelay.
  w.fake->ClearLog();
  const TimePoint start = d.now();
  const std::size_t before = w.Pool().status.hosts.size();
  if (auto all = w.store->List(api::Kind::kRedisInstance)) {
    for (const auto& o : *all) {
      const api::Key k = api::MetaOf(o).key();
      if (Status s = w.store->Delete(api::Kind::kRedisInstance, k); !s.ok()) Fail("delete: " + s.ToString());
      d.Touch(k);
    }
  }
  d.TouchPool();
  if (!d.Until([&] { return w.Instances() == 0 && w.Settled(1); }, 1200)) Fail("scale-in did not finish");
  auto [n, by] = Tally(w.fake->RequestLog());
  const auto removed = static_cast<int64_t>(before) - 1;
  std::printf("scale in (%zu droplets -> 1 standby, scaleInDelay 60 s): %lld API requests in %lld s of fake time, %.1f per droplet removed: %s\n",
              before, static_cast<long long>(n),
              static_cast<long long>(std::chrono::duration_cast<seconds>(d.now() - start).count()),
              removed > 0 ? static_cast<double>(n) / static_cast<double>(removed) : 0.0, by.c_str());
  // The provider looks again after a delete (its cache is stale): the next 30 s include that.
  w.fake->ClearLog();
  for (int i = 0; i < 30; ++i) d.Step();
  auto [after, after_by] = Tally(w.fake->RequestLog());
  std::printf("scale in, the 30 s after: %lld API requests: %s\n", static_cast<long long>(after), after_by.c_str());
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::min<double>(static_cast<double>(v.size() - 1),
                                                           std::ceil(p * static_cast<double>(v.size())) - 1));
  return v[i];
}

// Figure 3.
void StandbyToCreate(int events) {
  auto clock = std::make_shared<RealClock>();
  digitalocean::DropletProviderOptions popts;
  popts.busy_refresh = milliseconds(500);
  controllers::HostPoolOptions hopts;
  hopts.scaling_requeue = milliseconds(500);
  World* wp = nullptr;
  std::shared_ptr<runtime::Controller> ri_ctrl;
  hopts.on_hosts_changed = [&wp, &ri_ctrl](const api::Key& pool) {
    if (wp != nullptr && ri_ctrl) controllers::EnqueueInstancesOfPool(*wp->store, *ri_ctrl, pool);
  };
  World w(clock, milliseconds(200), popts, hopts);
  wp = &w;
  if (Status s = w.ri->Prime(); !s.ok()) Fail("prime: " + s.ToString());
  runtime::ControllerOptions copts;
  copts.workers = 2;
  ri_ctrl = std::make_shared<runtime::Controller>("redisinstance", w.ri, copts, clock, Logger::Null(), nullptr);
  auto hp_ctrl = std::make_shared<runtime::Controller>("hostpool", w.hp, copts, clock, Logger::Null(), nullptr);
  controllers::ConnectControllers(w.store, {ri_ctrl, hp_ctrl, nullptr});
  controllers::WakePoolsOnUsage(*w.ledger, hp_ctrl);
  if (Status s = ri_ctrl->Start(); !s.ok()) Fail("start: " + s.ToString());
  if (Status s = hp_ctrl->Start(); !s.ok()) Fail("start: " + s.ToString());

  Apply(w, MakePool(events + 5));
  if (!testing::WaitUntil([&] { return w.Settled(1); }, seconds(30))) Fail("the real-time pool did not settle");

  const auto deadline = Steady::now() + seconds(100);
  std::vector<double> ms;
  int fast = 0;
  for (int e = 1; e <= events && Steady::now() < deadline; ++e) {
    w.fake->ClearLog();
    const int64_t created = w.fake->created_total();
    const auto t0 = std::chrono::system_clock::now();
    Apply(w, MakeInstance(fmt::format("s{}", e)));
    if (!testing::WaitUntil([&] { return w.fake->created_total() > created; }, seconds(60),
                            milliseconds(1)))
      Fail(fmt::format("event {}: no create call within 60 s", e));
    std::optional<std::chrono::system_clock::time_point> posted;
    for (const auto& entry : w.fake->RequestLog())
      if (entry.method == "POST" && entry.route == "/v2/droplets" && !posted) posted = entry.time;
    if (!posted) Fail("the create is not in the fake's log");
    const double lat = std::chrono::duration<double, std::milli>(*posted - t0).count();
    ms.push_back(lat);
    if (lat < 1000) ++fast;
    // Wait for the new standby, then fill the used host so the next instance takes the standby.
    const auto want = static_cast<std::size_t>(e + 1);
    if (!testing::WaitUntil([&] { return w.ReadyInstances() == 2 * e - 1 && w.Settled(want); }, seconds(60)))
      Fail(fmt::format("event {}: the pool did not settle", e));
    Apply(w, MakeInstance(fmt::format("f{}", e)));
    if (!testing::WaitUntil([&] { return w.ReadyInstances() == 2 * e && w.Settled(want); }, seconds(60)))
      Fail(fmt::format("event {}: the filler did not settle", e));
  }
  ri_ctrl->Stop(seconds(10));
  hp_ctrl->Stop(seconds(10));
  std::string all;
  for (double v : ms) all += fmt::format("{}{:.0f}", all.empty() ? "" : " ", v);
  std::printf("standby used -> create call (real controllers, 2 workers each, RealClock): %zu events%s, p50 %.1f ms, p95 %.1f ms, max %.1f ms; %d under 1 s; all (ms): %s\n",
              ms.size(), static_cast<int>(ms.size()) < events ? " (cut at 100 s)" : "",
              Percentile(ms, 0.5), Percentile(ms, 0.95), ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end()),
              fast, all.c_str());
}

int Main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const int events = argc > 1 ? std::atoi(argv[1]) : 20;
  const auto t0 = Steady::now();
  IdleHour(20);
  IdleHour(0);
  ScalingEvents();
  StandbyToCreate(events);
  std::printf("bench_do_pool ran %.1f s\n", std::chrono::duration<double>(Steady::now() - t0).count());
  return 0;
}

}  // namespace
}  // namespace redisfleet

int main(int argc, char** argv) { return redisfleet::Main(argc, argv); }
