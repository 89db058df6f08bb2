#include "scaling/engine.h"

#include <functional>

#include <gtest/gtest.h>

#include "common/clock.h"

namespace redisfleet::scaling {
namespace {

using std::chrono::seconds;
constexpr int64_t kMiB = 1024 * 1024;

api::Plan P(std::string name, int64_t mib, int64_t clients, double cost) {
  return api::Plan{std::move(name), mib, clients, cost};
}

api::ScalingPolicySpec Spec() {
  api::ScalingPolicySpec s;
  s.target_ref.name = "cache";
  s.interval_seconds = 10;
  s.targets = {80, 80};
  s.scale_up.sustain_seconds = 60;
  s.scale_down = {600, 5, 75};
  s.cooldown_seconds = 300;
  s.plans = {P("small", 100, 100, 10), P("medium", 200, 200, 20), P("large", 400, 400, 40),
             P("xlarge", 800, 800, 80)};
  s.min_plan = "small";
  s.max_plan = "xlarge";
  return s;
}

const api::Plan kSmall = P("small", 100, 100, 10);
const api::Plan kMedium = P("medium", 200, 200, 20);
const api::Plan kLarge = P("large", 400, 400, 40);
const api::Plan kXlarge = P("xlarge", 800, 800, 80);

// Samples every 10 s from `from_ago` to `to_ago` seconds before now (inclusive).
struct Span {
  int64_t from_ago;
  int64_t to_ago;
  double mem_mib;
  int64_t clients;
  int64_t evicted = 0;
  int64_t rejected = 0;
  bool ok = true;
};

class EngineTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  TimePoint now_ = clock_.Now();

  std::vector<Sample> Window(std::vector<Span> runs) const {
    std::vector<Sample> w;
    for (const Span& r : runs) {
      for (int64_t ago = r.from_ago; ago >= r.to_ago; ago -= 10) {
        w.push_back(Sample{now_ - seconds(ago), r.ok, static_cast<int64_t>(r.mem_mib * kMiB), r.clients, r.evicted,
                           r.rejected});
      }
    }
    return w;
  }
};

struct Case {
  std::string name;
  std::function<void(api::ScalingPolicySpec&)> edit;
  api::Plan current;
  std::vector<Span> runs;
  std::optional<int64_t> last_action_ago;
  Action action;
  std::string target;
  std::string reason_has;
  bool breaching;
};

TEST_F(EngineTest, Rules) {
  const std::vector<Case> cases = {
      // Scale up: sustain.
      {"memory sustained for 60s", nullptr, kSmall, {{600, 70, 90, 10}, {60, 0, 90, 10}}, {},
       Action::kScaleUp, "medium", "memory 90% > 80% for 60s", true},
      {"memory above for 30s only", nullptr, kSmall, {{600, 50, 50, 10}, {30, 0, 90, 10}}, {},
       Action::kNone, "small", "memory 90% > 80%, not yet for 60s", true},
      {"window covers only 30s", nullptr, kSmall, {{30, 0, 90, 10}}, {},
       Action::kNone, "small", "metrics cover less than 60s", true},
      {"connections sustained", nullptr, kSmall, {{120, 0, 10, 90}}, {},
       Action::kScaleUp, "medium", "connections 90% > 80% for 60s", true},
      {"failed scrapes are skipped for scale-up", nullptr, kSmall,
       {{120, 40, 90, 10}, {30, 30, 0, 0, 0, 0, false}, {20, 0, 90, 10}}, {},
       Action::kScaleUp, "medium", "memory 90% > 80% for 60s", true},
      {"sustain 0 acts on the latest sample", [](auto& s) { s.scale_up.sustain_seconds = 0; }, kSmall,
       {{50, 10, 10, 10}, {0, 0, 90, 10}}, {}, Action::kScaleUp, "medium", "for 0s", true},
      // Breach at once.
      {"evicted keys rising: at once", nullptr, kSmall, {{600, 10, 50, 10, 7}, {0, 0, 50, 10, 12}}, {},
       Action::kScaleUp, "medium", "5 keys evicted", true},
      {"rejected connections rising: at once", nullptr, kSmall, {{20, 10, 50, 10, 0, 3}, {0, 0, 50, 10, 0, 4}}, {},
       Action::kScaleUp, "medium", "1 connections rejected", true},
      {"counter reset is not an eviction", nullptr, kSmall, {{600, 10, 50, 10, 100}, {0, 0, 50, 10, 0}}, {},
       Action::kNone, "small", "within targets", false},
      {"evictions before the last action do not count", [](auto& s) { s.cooldown_seconds = 0; }, kMedium,
       {{600, 40, 50, 10, 1}, {30, 0, 50, 10, 9}}, 25, Action::kNone, "medium", "within targets", false},
      {"evictions before the scaleUp period do not count", nullptr, kSmall,
       {{600, 300, 50, 10, 1}, {290, 0, 50, 10, 9}}, {}, Action::kNone, "small", "within targets", false},
      // Cooldown.
      {"cooldown blocks a sustained breach", nullptr, kSmall, {{120, 0, 90, 10}}, 100,
       Action::kNone, "small", "cooldown: 200s left", true},
      {"cooldown over", nullptr, kSmall, {{120, 0, 90, 10}}, 300, Action::kScaleUp, "medium", "", true},
      {"cooldown blocks a scale-down", nullptr, kLarge, {{700, 0, 20, 10}}, 10,
       Action::kNone, "large", "cooldown", false},
      // Bounds.
      {"at maxPlan: none", nullptr, kXlarge, {{120, 0, 700, 10}}, {}, Action::kNone, "xlarge", "at maxPlan", true},
      {"at maxPlan: evictions too", nullptr, kXlarge, {{120, 10, 100, 10, 1}, {0, 0, 100, 10, 2}}, {},
       Action::kNone, "xlarge", "at maxPlan xlarge: 1 keys evicted", true},
      {"nothing fits: maxPlan, never past it", [](auto& s) { s.max_plan = "large"; }, kMedium,
       {{120, 0, 350, 10}}, {}, Action::kScaleUp, "large", "no plan fits, maxPlan large", true},
      {"at minPlan: no scale-down", [](auto& s) { s.min_plan = "medium"; }, kMedium, {{700, 0, 5, 1}}, {},
       Action::kNone, "medium", "at minPlan", false},
      {"at the lowest plan", [](auto& s) { s.min_plan = ""; }, kSmall, {{700, 0, 5, 1}}, {},
       Action::kNone, "small", "at the lowest plan", false},
      {"current above maxPlan: moved to maxPlan, even in cooldown", [](auto& s) { s.max_plan = "large"; }, kXlarge,
       {{700, 0, 5, 1}}, 10, Action::kScaleDown, "large", "xlarge is above maxPlan large", false},
      {"current below minPlan: to minPlan", [](auto& s) { s.min_plan = "medium"; }, kSmall, {{120, 0, 5, 1}}, {},
       Action::kScaleUp, "medium", "small is below minPlan medium", false},
      {"current below minPlan: to the cheapest plan that holds the use", [](auto& s) { s.min_plan = "medium"; },
       kSmall, {{120, 0, 300, 1}}, {}, Action::kScaleUp, "large", "below minPlan", true},
      {"current below minPlan without metrics", [](auto& s) { s.min_plan = "medium"; }, kSmall, {}, {},
       Action::kScaleUp, "medium", "below minPlan", false},
      {"minPlan not in the catalogue", [](auto& s) { s.min_plan = "tiny"; }, kSmall, {{120, 0, 90, 10}}, {},
       Action::kNone, "small", "minPlan tiny is not in the catalogue", true},
      {"no plans", [](auto& s) { s.plans.clear(); }, kSmall, {{120, 0, 90, 10}}, {},
       Action::kNone, "small", "no plans", true},
      // Target choice.
      {"jumps several plans", nullptr, kSmall, {{120, 0, 500, 10}}, {},
       Action::kScaleUp, "xlarge", "xlarge fits (memory", true},
      {"sized on the period max, not the latest", nullptr, kSmall, {{60, 10, 300, 10}, {0, 0, 90, 10}}, {},
       Action::kScaleUp, "large", "", true},
      {"cheapest by cost, not by order",
       [](auto& s) { s.plans.push_back(P("promo", 800, 800, 15)); }, kSmall, {{120, 0, 90, 10}}, {},
       Action::kScaleUp, "promo", "promo fits", true},
      // Scale down.
      {"scale down two plans", nullptr, kLarge, {{700, 0, 60, 20}}, {},
       Action::kScaleDown, "small", "memory 15% < 75% and connections 5% < 75% for 600s", false},
      {"scale down sized on the window max", nullptr, kLarge, {{700, 300, 144, 20}, {290, 0, 40, 20}}, {},
       Action::kScaleDown, "medium", "medium at most memory 72%", false},
      {"buffer 5: scale down", nullptr, kLarge, {{700, 0, 140, 20}}, {}, Action::kScaleDown, "medium", "", false},
      {"buffer 50: blocked", [](auto& s) { s.scale_down.buffer_percent = 50; }, kLarge, {{700, 0, 140, 20}}, {},
       Action::kNone, "large", "within targets (memory 35%", false},
      {"buffer: above target-buffer earlier in the period", nullptr, kLarge,
       {{700, 300, 310, 20}, {290, 0, 140, 20}}, {}, Action::kNone, "large", "not below 75% / 75% for 600s", false},
      {"lowerPlanMaxPercent 75: medium at 72% is fine", nullptr, kLarge, {{700, 0, 144, 20}}, {},
       Action::kScaleDown, "medium", "", false},
      {"lowerPlanMaxPercent 70: blocked", [](auto& s) { s.scale_down.lower_plan_max_percent = 70; }, kLarge,
       {{700, 0, 144, 20}}, {}, Action::kNone, "large", "no lower plan keeps use under 70%", false},
      {"a failed sample blocks scale-down", nullptr, kLarge,
       {{700, 310, 60, 20}, {300, 300, 0, 0, 0, 0, false}, {290, 0, 60, 20}}, {},
       Action::kNone, "large", "1 failed scrapes in the last 600s", false},
      {"a gap blocks scale-down", nullptr, kLarge, {{700, 310, 60, 20}, {200, 0, 60, 20}}, {},
       Action::kNone, "large", "metrics gap of 110s", false},
      {"stale metrics block scale-down", nullptr, kLarge, {{700, 100, 60, 20}}, {},
       Action::kNone, "large", "metrics gap of 100s", false},
      {"window shorter than scaleDown.sustainSeconds", nullptr, kLarge, {{300, 0, 60, 20}}, {},
       Action::kNone, "large", "metrics cover less than 600s", false},
      {"no metrics at all", nullptr, kLarge, {}, {}, Action::kNone, "large", "no metrics", false},
      {"only failed samples", nullptr, kLarge, {{700, 0, 0, 0, 0, 0, false}}, {},
       Action::kNone, "large", "no metrics", false},
      {"evictions in the period block scale-down", [](auto& s) { s.scale_up.sustain_seconds = 0; }, kLarge,
       {{700, 400, 60, 20, 1}, {390, 0, 60, 20, 2}}, {}, Action::kNone, "large", "evictions or rejections", false},
      // A custom current plan (not in the catalogue).
      {"custom plan: scale up into the catalogue", nullptr, P("custom", 150, 150, 0), {{120, 0, 140, 10}}, {},
       Action::kScaleUp, "medium", "memory 93.3% > 80% for 60s", true},
      {"custom plan: scale down into the catalogue", nullptr, P("custom", 150, 150, 0), {{700, 0, 20, 10}}, {},
       Action::kScaleDown, "small", "", false},
      {"custom plan above maxPlan", nullptr, P("custom", 1000, 1000, 0), {{120, 0, 20, 10}}, {},
       Action::kScaleDown, "xlarge", "custom plan custom (1000 MiB) is above maxPlan xlarge", false},
      {"custom plan below minPlan", nullptr, P("custom", 50, 50, 0), {{120, 0, 20, 10}}, {},
       Action::kScaleUp, "small", "below minPlan small", false},
      {"within targets", nullptr, kMedium, {{700, 0, 100, 100}}, {}, Action::kNone, "medium",
       "within targets (memory 50%, connections 50%)", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    api::ScalingPolicySpec spec = Spec();
    if (c.edit) c.edit(spec);
    History h;
    if (c.last_action_ago) h.last_action = now_ - seconds(*c.last_action_ago);
    const auto window = Window(c.runs);
    Decision d = Decide(spec, c.current, window, h, now_);
    EXPECT_EQ(ActionName(d.action), ActionName(c.action)) << d.reason;
    EXPECT_EQ(d.target_plan, c.target) << d.reason;
    EXPECT_NE(d.reason.find(c.reason_has), std::string::npos) << d.reason;
    EXPECT_EQ(d.breaching, c.breaching) << d.reason;
  }
}

TEST_F(EngineTest, Evidence) {
  const auto window = Window({{120, 10, 95, 30}, {0, 0, 90, 20, 0, 0}});
  Decision d = Decide(Spec(), kSmall, window, {}, now_);
  EXPECT_DOUBLE_EQ(d.evidence.memory_percent, 90);
  EXPECT_DOUBLE_EQ(d.evidence.connections_percent, 20);
  EXPECT_DOUBLE_EQ(d.evidence.memory_percent_max, 95);
  EXPECT_DOUBLE_EQ(d.evidence.connections_percent_max, 30);
  EXPECT_EQ(d.evidence.samples, 7);  // 60 s back to 0, every 10 s
  EXPECT_EQ(d.evidence.failed_samples, 0);
  EXPECT_EQ(d.evidence.evicted_keys, 0);
}

TEST_F(EngineTest, SamplesAfterNowAreIgnored) {
  auto window = Window({{120, 0, 10, 10}});
  window.push_back(Sample{now_ + seconds(10), true, 99 * kMiB, 10, 0, 0});
  Decision d = Decide(Spec(), kSmall, window, {}, now_);
  EXPECT_EQ(d.action, Action::kNone);
  EXPECT_FALSE(d.breaching);
}

// Driven by a FakeClock: one breach episode, a scale-up, the cooldown, then a scale-down once
// the use has stayed low for scaleDown.sustainSeconds.
TEST_F(EngineTest, EpisodeOverTime) {
  api::ScalingPolicySpec spec = Spec();
  api::Plan current = kSmall;
  History h;
  std::vector<Sample> window;
  std::vector<std::pair<int64_t, Action>> actions;
  int episodes = 0;
  bool was_breaching = false;
  for (int64_t t = 0; t <= 3600; t += 10) {
    const TimePoint now = clock_.Now();
    const double mib = t >= 600 && t < 1200 ? 90 : 20;  // 90% of small for 10 minutes
    window.push_back(Sample{now, true, static_cast<int64_t>(mib * kMiB), 10, 0, 0});
    Decision d = Decide(spec, current, window, h, now);
    if (d.breaching && !was_breaching) ++episodes;
    was_breaching = d.breaching;
    if (d.action != Action::kNone) {
      actions.push_back({t, d.action});
      for (const auto& p : spec.plans)
        if (p.name == d.target_plan) current = p;
      h.last_action = now;
    }
    clock_.Advance(seconds(10));
  }
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0], (std::pair<int64_t, Action>{660, Action::kScaleUp}));
  // Low again from 1200; 600 s of low samples are needed, the period's anchor is at 1200.
  EXPECT_EQ(actions[1], (std::pair<int64_t, Action>{1800, Action::kScaleDown}));
  EXPECT_EQ(current.name, "small");
  // Breaching from 600 until the scale-up at 660 (45% on medium afterwards): one episode.
  EXPECT_EQ(episodes, 1);
}

TEST(PlanHelpers, CheapestFittingAndBounds) {
  api::ScalingPolicySpec spec = Spec();
  spec.min_plan = "medium";
  spec.max_plan = "large";
  auto in = PlansInBounds(spec);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0]->name, "medium");
  EXPECT_EQ(in[1]->name, "large");
  EXPECT_EQ(CheapestFitting(in, 150 * kMiB, 10, 80, 80)->name, "medium");
  EXPECT_EQ(CheapestFitting(in, 170 * kMiB, 10, 80, 80)->name, "large");
  EXPECT_EQ(CheapestFitting(in, 400 * kMiB, 10, 100, 100)->name, "large");  // capacity exactly
  EXPECT_EQ(CheapestFitting(in, 400 * kMiB + 1, 10, 100, 100), nullptr);
  EXPECT_EQ(MemoryBytes(kSmall), 100 * kMiB);
  EXPECT_EQ(FindPlan(spec.plans, "nope"), nullptr);
  EXPECT_EQ(ActionName(Action::kNone), "None");
  EXPECT_EQ(ActionName(Action::kScaleUp), "ScaleUp");
  EXPECT_EQ(ActionName(Action::kScaleDown), "ScaleDown");
}

}  // namespace
}  // namespace redisfleet::scaling
