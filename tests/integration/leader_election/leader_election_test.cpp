// LeaderElector against an in-process FakeKubeApiServer on 127.0.0.1, real clock, short
// durations (lease 2 s, renew deadline 1.5 s, retry 0.2 s).

#include "kube/leader_election.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fake_apiserver.h"
#include "kube/client.h"
#include "support/wait.h"

namespace redisfleet::kube {
namespace {

using nlohmann::json;
using redisfleet::testing::WaitUntil;
using namespace std::chrono_literals;

constexpr const char* kNs = "redis-fleet";

// One API server for the whole binary.
fakes::FakeKubeApiServer& Server() {
  static fakes::FakeKubeApiServer* server = [] {
    auto* s = new fakes::FakeKubeApiServer();
    Status st = s->Start("127.0.0.1:0");
    if (!st.ok()) {
      ADD_FAILURE() << st.ToString();
    }
    return s;
  }();
  return *server;
}

std::shared_ptr<Clock> Real() {
  static auto clock = std::make_shared<RealClock>();
  return clock;
}

std::unique_ptr<KubeClient> NewClient() {
  KubeClient::Options o;
  o.config.server = Server().url();
  o.config.namespace_name = kNs;
  o.qps = 0;
  o.max_retries = 0;
  o.request_timeout = 1000ms;
  return std::make_unique<KubeClient>(std::move(o), *Real());
}

struct Candidate {
  std::unique_ptr<KubeClient> client;
  std::unique_ptr<LeaderElector> elector;
  std::atomic<int> started{0};
  std::atomic<int> stopped{0};
  std::atomic<int> new_leader{0};
};

std::unique_ptr<Candidate> NewCandidate(const std::string& lease, const std::string& identity) {
  auto c = std::make_unique<Candidate>();
  c->client = NewClient();
  LeaderElector::Options o;
  o.name = lease;
  o.identity = identity;
  o.lease_duration = 2000ms;
  o.renew_deadline = 1500ms;
  o.retry_period = 200ms;
  LeaderElector::Callbacks cb;
  Candidate* raw = c.get();
  cb.on_started_leading = [raw] { raw->started++; };
  cb.on_stopped_leading = [raw] { raw->stopped++; };
  cb.on_new_leader = [raw](const std::string&) { raw->new_leader++; };
  c->elector = std::make_unique<LeaderElector>(*c->client, Real(), nullptr, o, cb);
  return c;
}

std::optional<json> LeaseSpec(const std::string& name) {
  auto lease = Server().GetObject("coordination.k8s.io", "leases", kNs, name);
  if (!lease) return std::nullopt;
  return (*lease)["spec"];
}

// Samples IsLeader of every elector until destroyed; counts samples where two lead at once.
class NeverBoth {
 public:
  explicit NeverBoth(std::vector<const LeaderElector*> electors)
      : electors_(std::move(electors)), thread_([this] {
          while (!done_) {
            int leaders = 0;
            for (auto* e : electors_) leaders += e->IsLeader() ? 1 : 0;
            if (leaders > 1) both_++;
            samples_++;
            std::this_thread::sleep_for(1ms);  // sampling period, not synchronisation
          }
        }) {}
  ~NeverBoth() {
    done_ = true;
    thread_.join();
  }
  int both() const { return both_; }
  int samples() const { return samples_; }

 private:
  std::vector<const LeaderElector*> electors_;
  std::atomic<bool> done_{false};
  std::atomic<int> both_{0};
  std::atomic<int> samples_{0};
  std::thread thread_;
};

const std::regex kMicroTime(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");

TEST(LeaderElection, OneLeadsAndGracefulStopHandsOverQuickly) {
  auto a = NewCandidate("handover", "a");
  auto b = NewCandidate("handover", "b");
  NeverBoth sampler({a->elector.get(), b->elector.get()});
  ASSERT_TRUE(a->elector->Start().ok());
  ASSERT_TRUE(b->elector->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return a->elector->IsLeader() || b->elector->IsLeader(); }, 10s));
  Candidate* leader = a->elector->IsLeader() ? a.get() : b.get();
  Candidate* other = leader == a.get() ? b.get() : a.get();
  EXPECT_EQ(leader->started, 1);
  ASSERT_TRUE(WaitUntil([&] { return other->elector->leader() == leader->elector->identity(); }));
  EXPECT_TRUE(WaitUntil([&] { return other->new_leader == 1; }));

  auto spec = LeaseSpec("handover");
  ASSERT_TRUE(spec);
  EXPECT_EQ((*spec)["holderIdentity"], leader->elector->identity());
  EXPECT_EQ((*spec)["leaseDurationSeconds"], 2);
  EXPECT_EQ((*spec)["leaseTransitions"], 0);
  EXPECT_TRUE(std::regex_match((*spec)["renewTime"].get<std::string>(), kMicroTime))
      << spec->dump();
  EXPECT_TRUE(std::regex_match((*spec)["acquireTime"].get<std::string>(), kMicroTime));
  // The leader renews every retry period and keeps its acquireTime.
  const std::string first_renew = (*spec)["renewTime"];
  ASSERT_TRUE(WaitUntil([&] { return (*LeaseSpec("handover"))["renewTime"] != first_renew; }, 5s));
  EXPECT_EQ((*LeaseSpec("handover"))["acquireTime"], (*spec)["acquireTime"]);
  // Across several lease durations the leader stays the leader.
  ASSERT_FALSE(WaitUntil([&] { return !leader->elector->IsLeader(); }, 3s));

  const auto t0 = std::chrono::steady_clock::now();
  leader->elector->Stop();
  EXPECT_FALSE(leader->elector->IsLeader());
  EXPECT_EQ(leader->stopped, 1);
  ASSERT_TRUE(WaitUntil([&] { return other->elector->IsLeader(); }, 5s));
  const auto handover = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(handover, 1s) << "released lease was not taken at once";
  spec = LeaseSpec("handover");
  EXPECT_EQ((*spec)["holderIdentity"], other->elector->identity());
  EXPECT_EQ((*spec)["leaseTransitions"], 1);
  EXPECT_EQ(other->started, 1);

  other->elector->Stop();
  EXPECT_EQ(other->stopped, 1);
  spec = LeaseSpec("handover");
  EXPECT_EQ((*spec)["holderIdentity"], "");
  EXPECT_EQ((*spec)["leaseDurationSeconds"], 1);
  EXPECT_EQ((*spec)["leaseTransitions"], 1);
  EXPECT_EQ(sampler.both(), 0);
  EXPECT_GT(sampler.samples(), 100);
}

TEST(LeaderElection, LeaderThatCannotRenewStepsDownAndOtherTakesOverAfterExpiry) {
  auto a = NewCandidate("failing", "a");
  auto b = NewCandidate("failing", "b");
  NeverBoth sampler({a->elector.get(), b->elector.get()});
  ASSERT_TRUE(a->elector->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return a->elector->IsLeader(); }, 10s));
  ASSERT_TRUE(b->elector->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return b->elector->leader() == "a"; }));
  const int transitions = (*LeaseSpec("failing"))["leaseTransitions"];

  // Every API request fails from now on (both candidates'): the leader cannot renew.
  const auto t0 = std::chrono::steady_clock::now();
  Server().FailNextRequests(1'000'000, 500);
  // IsLeader turns false at the renew deadline: 1.5 s after the last renewal, which began at
  // most a retry period before the failures did.
  ASSERT_TRUE(WaitUntil([&] { return !a->elector->IsLeader(); }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1800ms);
  // The loop notices on its next attempt and calls on_stopped_leading.
  ASSERT_TRUE(WaitUntil([&] { return a->stopped == 1; }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_FALSE(a->elector->IsLeader());
  EXPECT_FALSE(b->elector->IsLeader());

  Server().FailNextRequests(0);
  ASSERT_TRUE(WaitUntil([&] { return b->elector->IsLeader(); }, 10s));
  // Not before the lease (2 s after a's last renewal) expired.
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 1500ms);
  auto spec = LeaseSpec("failing");
  EXPECT_EQ((*spec)["holderIdentity"], "b");
  EXPECT_EQ((*spec)["leaseTransitions"], transitions + 1);
  // The one that stepped down sees b as the leader and stays a follower.
  ASSERT_TRUE(WaitUntil([&] { return a->elector->leader() == "b"; }));
  ASSERT_FALSE(WaitUntil([&] { return a->elector->IsLeader(); }, 2500ms));
  EXPECT_TRUE(b->elector->IsLeader());
  EXPECT_EQ(a->started, 1);

  b->elector->Stop();
  a->elector->Stop();
  EXPECT_EQ(sampler.both(), 0);
}

TEST(LeaderElection, StaleLeaseFromDeadHolderIsTakenAfterItExpires) {
  auto client = NewClient();
  ResourcePath leases{.group = "coordination.k8s.io", .version = "v1", .namespace_name = kNs,
                      .plural = "leases"};
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", "stale"}, {"namespace", kNs}}},
                {"spec",
                 {{"holderIdentity", "dead"},
                  {"leaseDurationSeconds", 2},
                  {"acquireTime", "2020-01-01T00:00:00.000000Z"},
                  {"renewTime", "2020-01-01T00:00:00.000000Z"},
                  {"leaseTransitions", 3}}}};
  ASSERT_TRUE(client->Create(leases, lease).ok());

  auto a = NewCandidate("stale", "a");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(a->elector->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return a->new_leader == 1; }));
  EXPECT_EQ(a->elector->leader(), "dead");
  ASSERT_TRUE(WaitUntil([&] { return a->elector->IsLeader(); }, 10s));
  // Expiry is judged by the local clock from when the record was first observed (client-go),
  // so the takeover comes one lease duration after start, not at once.
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 1900ms);
  EXPECT_LT(took, 4s);
  auto spec = LeaseSpec("stale");
  EXPECT_EQ((*spec)["holderIdentity"], "a");
  EXPECT_EQ((*spec)["leaseTransitions"], 4);
  EXPECT_NE((*spec)["acquireTime"], "2020-01-01T00:00:00.000000Z");
  EXPECT_EQ(a->elector->leader(), "a");
  EXPECT_EQ(a->new_leader, 2);
  a->elector->Stop();
}

TEST(LeaderElection, RejectsInconsistentDurations) {
  auto client = NewClient();
  LeaderElector::Options o;
  o.lease_duration = 1000ms;
  o.renew_deadline = 1500ms;
  LeaderElector e(*client, Real(), nullptr, o, {});
  EXPECT_EQ(e.Start().code(), StatusCode::kInvalidArgument);
  o.lease_duration = 2000ms;
  o.retry_period = 1300ms;  // 1.2 * 1.3 s > 1.5 s
  LeaderElector f(*client, Real(), nullptr, o, {});
  EXPECT_EQ(f.Start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace redisfleet::kube
