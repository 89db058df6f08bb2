#pragma once
// Replays a recorded trace through the decision engine (scaling/engine.h) to show what a
// ScalingPolicy would have done and cost. Pure: text in, values and text out (the CLI reads and
// writes the files). Reentrant.
//
// Cost model: a plan's monthlyCost is for a 730-hour month (the billing month of Heroku and
// DigitalOcean), prorated per second: cost = monthlyCost * seconds / (730 * 3600).
// The trace is a step function: point i holds from its timestamp until the next point's; the
// trace lasts from the first timestamp to the last (the last point itself adds no time).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/types.h"
#include "common/status.h"
#include "scaling/engine.h"

namespace redisfleet::scaling {

inline constexpr int64_t kBillingMonthSeconds = 730 * 3600;

struct TracePoint {
  int64_t timestamp = 0;  // seconds (Unix time or relative), strictly increasing
  int64_t used_memory_bytes = 0;
  int64_t connected_clients = 0;
};

// Parses the trace CSV: header `timestamp,used_memory_bytes,connected_clients`, then one row
// per sample of three non-negative integers, timestamps strictly increasing. Blank lines and
// CR line ends are accepted. InvalidArgument naming "source_name:line: field: what (got X)".
StatusOr<std::vector<TracePoint>> ParseTraceCsv(std::string_view text, std::string_view source_name);

struct SimDecision {
  int64_t time = 0;  // trace seconds
  std::string from;
  std::string to;
  std::string reason;
};

struct SimulationResult {
  std::string start_plan;
  int64_t start_time = 0;
  int64_t duration_seconds = 0;
  std::vector<SimDecision> decisions;  // plan changes only, in time order
  double total_cost = 0;               // the policy's plans over the trace
  double always_max_cost = 0;          // maxPlan (the top plan in bounds) all along
  // A lower bound for any breach-free schedule within the bounds: for every trace step the
  // cheapest in-bounds plan whose capacity (not target) holds it, or maxPlan if none does,
  // switching freely and instantly. A policy that lets breaches happen can cost less.
  double optimal_cost = 0;
  // Seconds whose used memory or clients exceed the capacity (not the target) of the plan in
  // effect.
  int64_t breach_seconds = 0;
  int64_t changes = 0;  // == decisions.size()
};

// Replays `trace` under `spec`: starts on minPlan (or the lowest plan in bounds), scrapes every
// spec.intervalSeconds of trace time from the first timestamp (a scrape sees the trace point in
// effect; always ok; the trace has no counters so evictions/rejections are 0), and calls Decide
// with the scrapes of the longest sustain period (plus one interval). Actions take effect at
// once and start the cooldown. An empty trace or spec without plans in bounds gives a zero
// result.
SimulationResult Simulate(const api::ScalingPolicySpec& spec, std::span<const TracePoint> trace);

// The `-o json` object of RESOURCES.md: {"total_cost","always_max_cost","optimal_cost",
// "breach_seconds","changes","decisions":[{"time","from","to","reason"}]}; costs rounded to
// 1e-6. One line, no trailing newline.
std::string SimulationJson(const SimulationResult& result);

// A readable multi-line summary (costs, breach time, the decisions).
std::string SimulationText(const SimulationResult& result);

// A standalone SVG: used memory over time against the memory capacity of the plan in effect
// (a step line), labelled axes (hours from the start, MiB) and a legend.
std::string PlotSvg(std::span<const TracePoint> trace, const SimulationResult& result,
                    const api::ScalingPolicySpec& spec);

}  // namespace redisfleet::scaling
