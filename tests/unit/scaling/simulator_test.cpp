#include "scaling/simulator.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/codec.h"

namespace redisfleet::scaling {
namespace {

constexpr int64_t kMiB = 1024 * 1024;

TEST(ParseTraceCsv, Errors) {
  struct Case {
    std::string name;
    std::string text;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"empty file", "", "trace.csv:1: header: must be timestamp,used_memory_bytes,connected_clients (got an empty file)"},
      {"wrong header", "time,mem,clients\n1,2,3\n",
       "trace.csv:1: header: must be timestamp,used_memory_bytes,connected_clients (got time,mem,clients)"},
      {"no samples", "timestamp,used_memory_bytes,connected_clients\n", "trace.csv:1: no samples after the header"},
      {"too few fields", "timestamp,used_memory_bytes,connected_clients\n0,1,2\n60,5\n",
       "trace.csv:3: row: must have 3 fields timestamp,used_memory_bytes,connected_clients (got 2)"},
      {"not a number", "timestamp,used_memory_bytes,connected_clients\n0,1,2\n60,12MB,3\n",
       "trace.csv:3: used_memory_bytes: must be a non-negative integer (got 12MB)"},
      {"negative", "timestamp,used_memory_bytes,connected_clients\n0,1,-2\n",
       "trace.csv:2: connected_clients: must be a non-negative integer (got -2)"},
      {"empty field", "timestamp,used_memory_bytes,connected_clients\n,1,2\n",
       "trace.csv:2: timestamp: must be a non-negative integer (got \"\")"},
      {"decimal", "timestamp,used_memory_bytes,connected_clients\n1.5,1,2\n",
       "trace.csv:2: timestamp: must be a non-negative integer (got 1.5)"},
      {"not increasing", "timestamp,used_memory_bytes,connected_clients\n0,1,2\n\n60,1,2\n60,1,2\n",
       "trace.csv:5: timestamp: must be greater than the previous row's 60 (got 60)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = ParseTraceCsv(c.text, "trace.csv");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.error().message(), c.error);
  }
}

TEST(ParseTraceCsv, AcceptsCrLfSpacesAndBlankLines) {
  auto r = ParseTraceCsv("timestamp, used_memory_bytes, connected_clients\r\n\r\n10, 100 ,3\r\n20,200,4\r\n\n",
                         "t.csv");
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].timestamp, 10);
  EXPECT_EQ((*r)[0].used_memory_bytes, 100);
  EXPECT_EQ((*r)[1].connected_clients, 4);
}

// Two plans priced so that an hour of `small` costs exactly 1 and of `big` 2.
api::ScalingPolicySpec TinySpec() {
  api::ScalingPolicySpec s;
  s.target_ref.name = "cache";
  s.interval_seconds = 60;
  s.targets = {80, 80};
  s.scale_up.sustain_seconds = 120;
  s.scale_down = {600, 5, 75};
  s.cooldown_seconds = 300;
  s.plans = {{"small", 100, 100, 730}, {"big", 400, 400, 1460}};
  s.min_plan = "small";
  s.max_plan = "big";
  return s;
}

TEST(Simulate, FlatTraceMakesNoChange) {
  std::vector<TracePoint> trace;
  for (int64_t t = 0; t <= 7200; t += 10) trace.push_back({t, 30 * kMiB, 10});
  auto r = Simulate(TinySpec(), trace);
  EXPECT_EQ(r.start_plan, "small");
  EXPECT_EQ(r.changes, 0);
  EXPECT_TRUE(r.decisions.empty());
  EXPECT_EQ(r.breach_seconds, 0);
  EXPECT_DOUBLE_EQ(r.total_cost, 2.0);
  EXPECT_DOUBLE_EQ(r.optimal_cost, 2.0);
  EXPECT_DOUBLE_EQ(r.always_max_cost, 4.0);
}

// Low for an hour, then 150 MiB (over small's 100 MiB) for an hour, computed by hand: the
// scale-up waits scaleUp.sustainSeconds (120 s), so small runs 3720 s (120 s of them in breach)
// and big 3480 s.
TEST(Simulate, StepTraceScalesUpOnceCostsByHand) {
  std::vector<TracePoint> trace = {{0, 10 * kMiB, 5}, {3600, 150 * kMiB, 5}, {7200, 150 * kMiB, 5}};
  auto r = Simulate(TinySpec(), trace);
  ASSERT_EQ(r.changes, 1);
  ASSERT_EQ(r.decisions.size(), 1u);
  EXPECT_EQ(r.decisions[0].time, 3720);
  EXPECT_EQ(r.decisions[0].from, "small");
  EXPECT_EQ(r.decisions[0].to, "big");
  EXPECT_EQ(r.decisions[0].reason.rfind("memory 150% > 80% for 120s", 0), 0u) << r.decisions[0].reason;
  EXPECT_EQ(r.breach_seconds, 120);
  EXPECT_DOUBLE_EQ(r.total_cost, (3720.0 * 1 + 3480.0 * 2) / 3600);
  EXPECT_DOUBLE_EQ(r.optimal_cost, 3.0);  // small for the first hour, big for the second
  EXPECT_DOUBLE_EQ(r.always_max_cost, 4.0);
  EXPECT_EQ(r.duration_seconds, 7200);

  // With no sustain, the change comes with the first sample over target: no breach.
  auto spec = TinySpec();
  spec.scale_up.sustain_seconds = 0;
  auto fast = Simulate(spec, trace);
  ASSERT_EQ(fast.changes, 1);
  EXPECT_EQ(fast.decisions[0].time, 3600);
  EXPECT_EQ(fast.breach_seconds, 0);
  EXPECT_DOUBLE_EQ(fast.total_cost, 3.0);
}

TEST(Simulate, ScalesBackDownAfterTheSustainWindow) {
  std::vector<TracePoint> trace;
  for (int64_t t = 0; t <= 6 * 3600; t += 60)
    trace.push_back({t, (t >= 3600 && t < 7200 ? 150 : 20) * kMiB, 5});
  auto r = Simulate(TinySpec(), trace);
  ASSERT_EQ(r.changes, 2);
  EXPECT_EQ(r.decisions[0].to, "big");
  EXPECT_EQ(r.decisions[1].to, "small");
  EXPECT_EQ(r.decisions[1].time, 7200 + 600);  // low from 7200, scaleDown.sustainSeconds 600
}

TEST(Simulate, EmptyInputs) {
  EXPECT_EQ(Simulate(TinySpec(), {}).changes, 0);
  auto spec = TinySpec();
  spec.min_plan = "nope";
  std::vector<TracePoint> trace = {{0, 1, 1}, {60, 1, 1}};
  auto r = Simulate(spec, trace);
  EXPECT_EQ(r.start_plan, "");
  EXPECT_EQ(r.total_cost, 0);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string SourceDir() {
  const char* dir = std::getenv("REDISFLEET_SOURCE_DIR");
  return dir != nullptr ? dir : REDISFLEET_SOURCE_DIR_DEFAULT;
}

struct Diurnal {
  api::ScalingPolicySpec spec;
  std::vector<TracePoint> trace;
};

Diurnal LoadDiurnal() {
  Diurnal d;
  const std::string dir = SourceDir() + "/examples/simulate/";
  auto docs = api::ParseYaml(Slurp(dir + "policy.yaml"), "policy.yaml");
  EXPECT_EQ(docs.size(), 1u);
  if (docs.size() == 1 && docs[0].object) {
    d.spec = std::get<api::ScalingPolicy>(*docs[0].object).spec;
  } else {
    for (const auto& p : docs[0].problems) ADD_FAILURE() << p.ToString();
  }
  auto trace = ParseTraceCsv(Slurp(dir + "diurnal.csv"), "diurnal.csv");
  EXPECT_TRUE(trace.ok()) << trace.error().message();
  if (trace.ok()) d.trace = *trace;
  return d;
}

TEST(Simulate, DiurnalCostsAreOrdered) {
  Diurnal d = LoadDiurnal();
  ASSERT_EQ(d.trace.size(), 7u * 1440 + 1);
  auto r = Simulate(d.spec, d.trace);
  EXPECT_GT(r.changes, 7);  // up and down at least once a day
  EXPECT_LE(r.optimal_cost, r.total_cost);
  EXPECT_LE(r.total_cost, r.always_max_cost);
  EXPECT_LT(r.total_cost, r.always_max_cost * 0.6);
  EXPECT_DOUBLE_EQ(r.always_max_cost, 120.0 * 7 * 24 / 730);
  EXPECT_GT(r.breach_seconds, 0);  // the Wednesday spike jumps past premium-2 at once
  EXPECT_LT(r.breach_seconds, 600);
  bool reached_top = false;
  for (const auto& dec : r.decisions) reached_top |= dec.to == "premium-3";
  EXPECT_TRUE(reached_top);
}

TEST(SimulationJson, KeysExactlyAsDocumented) {
  std::vector<TracePoint> trace = {{0, 10 * kMiB, 5}, {3600, 150 * kMiB, 5}, {7200, 150 * kMiB, 5}};
  auto j = nlohmann::json::parse(SimulationJson(Simulate(TinySpec(), trace)));
  std::set<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"total_cost", "always_max_cost", "optimal_cost", "breach_seconds", "changes",
                                         "decisions"}));
  ASSERT_EQ(j["decisions"].size(), 1u);
  std::set<std::string> dkeys;
  for (const auto& [k, v] : j["decisions"][0].items()) dkeys.insert(k);
  EXPECT_EQ(dkeys, (std::set<std::string>{"time", "from", "to", "reason"}));
  EXPECT_EQ(j["decisions"][0]["time"], 3720);
  EXPECT_EQ(j["breach_seconds"], 120);
  EXPECT_EQ(j["changes"], 1);
  EXPECT_DOUBLE_EQ(j["total_cost"].get<double>(), 2.966667);
  EXPECT_DOUBLE_EQ(j["always_max_cost"].get<double>(), 4.0);
}

TEST(SimulationText, MentionsTheFigures) {
  std::vector<TracePoint> trace = {{0, 10 * kMiB, 5}, {3600, 150 * kMiB, 5}, {7200, 150 * kMiB, 5}};
  std::string text = SimulationText(Simulate(TinySpec(), trace));
  EXPECT_NE(text.find("total cost:      2.97"), std::string::npos) << text;
  EXPECT_NE(text.find("breach seconds:  120"), std::string::npos) << text;
  EXPECT_NE(text.find("t=3720 (+0d 01:02:00)  small -> big: memory 150%"), std::string::npos) << text;
}

// Tags open and close in order; self-closing tags count as both.
bool Balanced(const std::string& svg, std::string* why) {
  std::vector<std::string> stack;
  std::size_t pos = 0;
  int elements = 0;
  while ((pos = svg.find('<', pos)) != std::string::npos) {
    std::size_t end = svg.find('>', pos);
    if (end == std::string::npos) return *why = "unterminated tag", false;
    std::string tag = svg.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    ++elements;
    if (tag.empty()) return *why = "empty tag", false;
    if (tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1)) return *why = "unexpected </" + tag.substr(1) + ">", false;
      stack.pop_back();
    } else if (tag.back() != '/') {
      stack.push_back(tag.substr(0, tag.find_first_of(" \n")));
    }
  }
  if (!stack.empty()) return *why = "unclosed <" + stack.back() + ">", false;
  return elements > 10;
}

TEST(PlotSvg, StandaloneAndBalanced) {
  Diurnal d = LoadDiurnal();
  auto r = Simulate(d.spec, d.trace);
  std::string svg = PlotSvg(d.trace, r, d.spec);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  std::string why;
  EXPECT_TRUE(Balanced(svg, &why)) << why;
  EXPECT_NE(svg.find("time (hours from start)"), std::string::npos);
  EXPECT_NE(svg.find("memory (MiB)"), std::string::npos);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find("<path d=\"M"), std::string::npos);
  EXPECT_LT(svg.size(), 400u * 1024);  // min/max per pixel column, not one point per sample

  std::string why_empty;
  EXPECT_TRUE(Balanced(PlotSvg({}, SimulationResult{}, d.spec), &why_empty)) << why_empty;
}

TEST(PlotSvg, EscapesPlanNames) {
  auto spec = TinySpec();
  spec.plans[0].name = "a<b&c";
  spec.min_plan = "a<b&c";
  std::vector<TracePoint> trace = {{0, 10 * kMiB, 5}, {3600, 10 * kMiB, 5}};
  auto r = Simulate(spec, trace);
  ASSERT_EQ(r.start_plan, "a<b&c");
  std::string svg = PlotSvg(trace, r, spec);
  EXPECT_NE(svg.find("a&lt;b&amp;c"), std::string::npos);
  EXPECT_EQ(svg.find("a<b"), std::string::npos);
  std::string why;
  EXPECT_TRUE(Balanced(svg, &why)) << why;
}

}  // namespace
}  // namespace redisfleet::scaling
