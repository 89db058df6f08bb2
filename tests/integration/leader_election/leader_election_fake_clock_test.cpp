// LeaderElector driven by a FakeClock (exact expiry and renew-deadline arithmetic), against an
// in-process FakeKubeApiServer on 127.0.0.1; plus the MicroTime format.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fake_apiserver.h"
#include "kube/client.h"
#include "kube/leader_election.h"
#include "support/wait.h"

namespace redisfleet::kube {
namespace {

using nlohmann::json;
using redisfleet::testing::WaitUntil;
using namespace std::chrono_literals;

TEST(MicroTime, FormatsRfc3339WithMicroseconds) {
  const TimePoint t{std::chrono::seconds(1714564800) + std::chrono::microseconds(123456)};
  EXPECT_EQ(FormatMicroTime(t), "2024-05-01T12:00:00.123456Z");
  EXPECT_EQ(FormatMicroTime(TimePoint{std::chrono::seconds(1714564800)}),
            "2024-05-01T12:00:00.000000Z");
}

TEST(LeaderElectorFakeClock, TakesStaleLeaseExactlyAfterExpiryAndStepsDownAtRenewDeadline) {
  fakes::FakeKubeApiServer server;
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  auto clock = std::make_shared<FakeClock>();
  const TimePoint t0 = clock->Now();

  KubeClient::Options co;
  co.config.server = server.url();
  co.config.namespace_name = "ns";
  co.qps = 0;
  co.max_retries = 0;
  co.request_timeout = 2000ms;
  KubeClient client(co, *clock);
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", "l"}, {"namespace", "ns"}}},
                {"spec",
                 {{"holderIdentity", "dead"},
                  {"leaseDurationSeconds", 2},
                  {"renewTime", "2020-01-01T00:00:00.000000Z"},
                  {"leaseTransitions", 0}}}};
  ASSERT_TRUE(client.Create({.group = "coordination.k8s.io", .version = "v1",
                             .namespace_name = "ns", .plural = "leases"},
                            lease)
                  .ok());

  LeaderElector::Options o;
  o.name = "l";
  o.identity = "me";
  o.lease_duration = 2000ms;
  o.renew_deadline = 1500ms;
  o.retry_period = 200ms;
  std::atomic<int> started{0}, stopped{0};
  LeaderElector::Callbacks cb;
  cb.on_started_leading = [&] { started++; };
  cb.on_stopped_leading = [&] { stopped++; };
  LeaderElector elector(client, clock, nullptr, o, cb);

  const auto base = server.RequestCount();
  ASSERT_TRUE(elector.Start().ok());
  // First attempt at t0: observes the record, which is valid until t0 + 2 s by our clock.
  ASSERT_TRUE(WaitUntil([&] { return elector.leader() == "dead"; }));
  clock->Advance(1900ms);  // t0 + 1.9 s: next attempt, still held
  ASSERT_TRUE(WaitUntil([&] { return server.RequestCount() >= base + 2; }));
  clock->Advance(200ms);  // t0 + 2.1 s: expired
  ASSERT_TRUE(WaitUntil([&] { return elector.IsLeader(); }));
  EXPECT_EQ(started, 1);
  auto spec = (*server.GetObject("coordination.k8s.io", "leases", "ns", "l"))["spec"];
  // Acquired by the attempt at t0 + 2.1 s, not earlier.
  EXPECT_EQ(spec["acquireTime"], FormatMicroTime(t0 + 2100ms));
  EXPECT_EQ(spec["renewTime"], FormatMicroTime(t0 + 2100ms));
  EXPECT_EQ(spec["holderIdentity"], "me");
  EXPECT_EQ(spec["leaseTransitions"], 1);

  // Renewals fail from now on.
  server.FailNextRequests(1'000'000, 503);
  const auto failing_from = server.RequestCount();
  clock->Advance(1000ms);  // t0 + 3.1 s: a renewal fails, still within the deadline
  ASSERT_TRUE(WaitUntil([&] { return server.RequestCount() > failing_from; }));
  EXPECT_TRUE(elector.IsLeader());
  EXPECT_EQ(stopped, 0);
  clock->Advance(500ms);  // t0 + 3.6 s = last renewal + 1.5 s: the renew deadline
  EXPECT_FALSE(elector.IsLeader());  // by the clock alone, before the loop notices
  ASSERT_TRUE(WaitUntil([&] { return stopped == 1; }));
  server.FailNextRequests(0);

  // It sits out one lease duration from stepping down, then takes its own stale lease again.
  clock->Advance(1000ms);
  ASSERT_FALSE(WaitUntil([&] { return elector.IsLeader(); }, 300ms));
  clock->Advance(1100ms);
  ASSERT_TRUE(WaitUntil([&] { return elector.IsLeader(); }));
  EXPECT_EQ(started, 2);
  elector.Stop();
  EXPECT_EQ(stopped, 2);
  spec = (*server.GetObject("coordination.k8s.io", "leases", "ns", "l"))["spec"];
  EXPECT_EQ(spec["holderIdentity"], "");
}

}  // namespace
}  // namespace redisfleet::kube
