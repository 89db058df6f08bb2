#include "metrics/metrics.h"

#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/types.h"

namespace redisfleet::metrics {
namespace {

using runtime::ReconcileOutcome;
using ::testing::HasSubstr;
using ::testing::Not;

// The line of `text` for series `series` (name and labels exactly as serialised), or "".
std::string Line(const std::string& text, const std::string& series) {
  std::size_t pos = 0;
  while ((pos = text.find(series + " ", pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') {
      return text.substr(pos, text.find('\n', pos) - pos);
    }
    ++pos;
  }
  return "";
}

TEST(MetricsTest, FreshRegistryShowsEverySeriesAtZero) {
  Metrics m;
  const std::string text = m.Serialize();
  const std::vector<std::string> want = {
      "# TYPE redisfleet_reconcile_total counter",
      "# TYPE redisfleet_reconcile_errors_total counter",
      "# TYPE redisfleet_reconcile_duration_seconds histogram",
      "# TYPE redisfleet_workqueue_depth gauge",
      "# TYPE redisfleet_instances gauge",
      "# TYPE redisfleet_invalid_resources gauge",
      "# TYPE redisfleet_leader gauge",
      "redisfleet_build_info{version=\"0.1.0\"} 1",
      "redisfleet_invalid_resources 0",
      "redisfleet_leader 0",
  };
  for (const std::string& w : want) {
    SCOPED_TRACE(w);
    EXPECT_THAT(text, HasSubstr(w));
  }
  // Hosts are per pool: no series until a pool reports.
  EXPECT_THAT(text, Not(HasSubstr("redisfleet_hosts{")));
  for (std::string_view c : kControllers) {
    const std::string controller(c);
    SCOPED_TRACE(controller);
    for (const char* result : {"success", "error", "requeue"}) {
      EXPECT_EQ(Line(text, "redisfleet_reconcile_total{controller=\"" + controller +
                               "\",result=\"" + result + "\"}"),
                "redisfleet_reconcile_total{controller=\"" + controller + "\",result=\"" + result +
                    "\"} 0");
    }
    EXPECT_NE(Line(text, "redisfleet_reconcile_errors_total{controller=\"" + controller + "\"}"), "");
    EXPECT_NE(Line(text, "redisfleet_workqueue_depth{controller=\"" + controller + "\"}"), "");
    EXPECT_NE(Line(text, "redisfleet_reconcile_duration_seconds_count{controller=\"" + controller +
                             "\"}"),
              "");
  }
  for (const auto& [phase, name] : api::EnumTable<api::Phase>::kValues) {
    SCOPED_TRACE(name);
    EXPECT_EQ(Line(text, "redisfleet_instances{phase=\"" + std::string(name) + "\"}"),
              "redisfleet_instances{phase=\"" + std::string(name) + "\"} 0");
  }
}

TEST(MetricsTest, ReconcileDoneCountsByResultAndObservesDuration) {
  Metrics m;
  m.ReconcileDone("redisinstance", ReconcileOutcome::kSuccess, 0.002);
  m.ReconcileDone("redisinstance", ReconcileOutcome::kSuccess, 0.5);
  m.ReconcileDone("redisinstance", ReconcileOutcome::kError, 20);
  m.ReconcileDone("hostpool", ReconcileOutcome::kRequeue, 0.0001);
  const std::string text = m.Serialize();
  struct Case {
    std::string series;
    std::string value;
  };
  const std::vector<Case> cases = {
      {"redisfleet_reconcile_total{controller=\"redisinstance\",result=\"success\"}", "2"},
      {"redisfleet_reconcile_total{controller=\"redisinstance\",result=\"error\"}", "1"},
      {"redisfleet_reconcile_total{controller=\"redisinstance\",result=\"requeue\"}", "0"},
      {"redisfleet_reconcile_total{controller=\"hostpool\",result=\"requeue\"}", "1"},
      {"redisfleet_reconcile_total{controller=\"scalingpolicy\",result=\"success\"}", "0"},
      {"redisfleet_reconcile_errors_total{controller=\"redisinstance\"}", "1"},
      {"redisfleet_reconcile_errors_total{controller=\"hostpool\"}", "0"},
      {"redisfleet_reconcile_duration_seconds_count{controller=\"redisinstance\"}", "3"},
      {"redisfleet_reconcile_duration_seconds_sum{controller=\"redisinstance\"}", "20.502"},
      {"redisfleet_reconcile_duration_seconds_bucket{controller=\"redisinstance\",le=\"0.001\"}",
       "0"},
      {"redisfleet_reconcile_duration_seconds_bucket{controller=\"redisinstance\",le=\"0.00215\"}",
       "1"},
      {"redisfleet_reconcile_duration_seconds_bucket{controller=\"redisinstance\",le=\"1\"}", "2"},
      {"redisfleet_reconcile_duration_seconds_bucket{controller=\"redisinstance\",le=\"10\"}", "2"},
      {"redisfleet_reconcile_duration_seconds_bucket{controller=\"redisinstance\",le=\"+Inf\"}",
       "3"},
      {"redisfleet_reconcile_duration_seconds_bucket{controller=\"hostpool\",le=\"0.001\"}", "1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.series);
    EXPECT_EQ(Line(text, c.series), c.series + " " + c.value);
  }
}

TEST(MetricsTest, GaugesFollowTheLastSet) {
  Metrics m;
  m.QueueDepth("scalingpolicy", 7);
  m.QueueDepth("hostpool", 3);
  m.QueueDepth("hostpool", 1);
  m.SetInstancesByPhase({{"Ready", 4}, {"Pending", 2}, {"not-a-phase", 9}});
  m.SetInstancesByPhase({{"Ready", 5}, {"Failed", 1}, {"not-a-phase", 9}});
  m.SetInvalidResources(2);
  m.SetHostsByState("default/pool-a", {{"Ready", 3}, {"Cordoned", 1}});
  m.SetLeader(true);
  const std::string text = m.Serialize();
  struct Case {
    std::string series;
    std::string value;
  };
  const std::vector<Case> cases = {
      {"redisfleet_workqueue_depth{controller=\"scalingpolicy\"}", "7"},
      {"redisfleet_workqueue_depth{controller=\"hostpool\"}", "1"},
      {"redisfleet_workqueue_depth{controller=\"redisinstance\"}", "0"},
      {"redisfleet_instances{phase=\"Ready\"}", "5"},
      {"redisfleet_instances{phase=\"Pending\"}", "0"},
      {"redisfleet_instances{phase=\"Failed\"}", "1"},
      {"redisfleet_instances{phase=\"Deleting\"}", "0"},
      {"redisfleet_invalid_resources", "2"},
      {"redisfleet_hosts{pool=\"default/pool-a\",state=\"Ready\"}", "3"},
      {"redisfleet_hosts{pool=\"default/pool-a\",state=\"Cordoned\"}", "1"},
      {"redisfleet_hosts{pool=\"default/pool-a\",state=\"Provisioning\"}", "0"},
      {"redisfleet_hosts{pool=\"default/pool-a\",state=\"Lost\"}", "0"},
      {"redisfleet_hosts{pool=\"default/pool-a\",state=\"Deleting\"}", "0"},
      {"redisfleet_leader", "1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.series);
    EXPECT_EQ(Line(text, c.series), c.series + " " + c.value);
  }
  EXPECT_THAT(text, Not(HasSubstr("not-a-phase")));

  m.SetLeader(false);
  m.RemovePool("default/pool-a");
  const std::string after = m.Serialize();
  EXPECT_EQ(Line(after, "redisfleet_leader"), "redisfleet_leader 0");
  EXPECT_THAT(after, Not(HasSubstr("pool-a")));
}

TEST(MetricsTest, ConcurrentReportsAreAllCounted) {
  Metrics m;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m, t] {
      const std::string controller = t % 2 == 0 ? "hostpool" : "worker-" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        m.ReconcileDone(controller, ReconcileOutcome::kSuccess, 0.01);
        m.QueueDepth(controller, static_cast<std::size_t>(i));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const std::string text = m.Serialize();
  EXPECT_EQ(Line(text, "redisfleet_reconcile_total{controller=\"hostpool\",result=\"success\"}"),
            "redisfleet_reconcile_total{controller=\"hostpool\",result=\"success\"} 2000");
  EXPECT_EQ(Line(text, "redisfleet_reconcile_total{controller=\"worker-1\",result=\"success\"}"),
            "redisfleet_reconcile_total{controller=\"worker-1\",result=\"success\"} 1000");
}

TEST(MetricsTest, RegistryHoldsEveryFamily) {
  Metrics m;
  ASSERT_NE(m.registry(), nullptr);
  EXPECT_EQ(m.registry()->Collect().size(), 8u);  // redisfleet_hosts is empty without pools
  m.SetHostsByState("default/p", {});
  std::vector<std::string> names;
  for (const auto& family : m.registry()->Collect()) names.push_back(family.name);
  EXPECT_THAT(names, ::testing::UnorderedElementsAre(
                         "redisfleet_reconcile_total", "redisfleet_reconcile_errors_total",
                         "redisfleet_reconcile_duration_seconds", "redisfleet_workqueue_depth",
                         "redisfleet_instances", "redisfleet_invalid_resources",
                         "redisfleet_hosts", "redisfleet_leader", "redisfleet_build_info"));
}

}  // namespace
}  // namespace redisfleet::metrics

namespace redisfleet::metrics {
namespace {

TEST(MetricsScaling, DecisionsAreCountedByActionAndMode) {
  Metrics m;
  m.CountScalingDecision("ScaleUp");
  m.CountScalingDecision("DryRun:ScaleUp");
  m.CountScalingDecision("DryRun:ScaleUp");
  const std::string text = m.Serialize();
  EXPECT_NE(text.find("redisfleet_scaling_decisions_total{action=\"ScaleUp\",mode=\"Auto\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("redisfleet_scaling_decisions_total{action=\"ScaleUp\",mode=\"DryRun\"} 2"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace redisfleet::metrics
