#include "scaling/simulator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace redisfleet::scaling {
namespace {

constexpr std::string_view kHeader = "timestamp,used_memory_bytes,connected_clients";
constexpr std::string_view kFields[] = {"timestamp", "used_memory_bytes", "connected_clients"};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t comma = line.find(',', start);
    out.push_back(Trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

auto Order(const api::Plan& p) { return std::tie(p.memory_mib, p.monthly_cost); }

const api::Plan* Top(const std::vector<const api::Plan*>& plans) {
  return *std::max_element(plans.begin(), plans.end(),
                           [](const api::Plan* a, const api::Plan* b) { return Order(*a) < Order(*b); });
}

double Round6(double x) { return std::round(x * 1e6) / 1e6; }

std::string Offset(int64_t seconds) {
  return fmt::format("+{}d {:02}:{:02}:{:02}", seconds / 86400, seconds % 86400 / 3600, seconds % 3600 / 60,
                     seconds % 60);
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

// 1, 2 or 5 times a power of ten, at least `raw`.
double NiceStep(double raw) {
  if (!(raw > 0)) return 1;
  double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw) return m * p;
  return 10 * p;
}

}  // namespace

StatusOr<std::vector<TracePoint>> ParseTraceCsv(std::string_view text, std::string_view source_name) {
  std::vector<TracePoint> out;
  bool header_seen = false;
  int line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty()) continue;
    if (!header_seen) {
      std::string compact;
      for (char c : line)
        if (c != ' ' && c != '\t') compact += c;
      if (compact != kHeader)
        return InvalidArgumentError(fmt::format("{}:{}: header: must be {} (got {})", source_name, line_no, kHeader,
                                                line));
      header_seen = true;
      continue;
    }
    auto fields = Split(line);
    if (fields.size() != 3)
      return InvalidArgumentError(
          fmt::format("{}:{}: row: must have 3 fields {} (got {})", source_name, line_no, kHeader, fields.size()));
    int64_t v[3];
    for (int f = 0; f < 3; ++f) {
      auto s = fields[f];
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v[f]);
      if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v[f] < 0)
        return InvalidArgumentError(fmt::format("{}:{}: {}: must be a non-negative integer (got {})", source_name,
                                                line_no, kFields[f], s.empty() ? "\"\"" : std::string(s)));
    }
    if (!out.empty() && v[0] <= out.back().timestamp)
      return InvalidArgumentError(fmt::format("{}:{}: timestamp: must be greater than the previous row's {} (got {})",
                                              source_name, line_no, out.back().timestamp, v[0]));
    out.push_back(TracePoint{v[0], v[1], v[2]});
  }
  if (!header_seen)
    return InvalidArgumentError(fmt::format("{}:1: header: must be {} (got an empty file)", source_name, kHeader));
  if (out.empty()) return InvalidArgumentError(fmt::format("{}:{}: no samples after the header", source_name, line_no));
  return out;
}

SimulationResult Simulate(const api::ScalingPolicySpec& spec, std::span<const TracePoint> trace) {
  SimulationResult r;
  const std::vector<const api::Plan*> in_bounds = PlansInBounds(spec);
  if (trace.empty() || in_bounds.empty()) return r;
  const api::Plan* top = Top(in_bounds);
  const api::Plan* current = spec.min_plan.empty() ? nullptr : FindPlan(spec.plans, spec.min_plan);
  if (current == nullptr)
    current = *std::min_element(in_bounds.begin(), in_bounds.end(),
                                [](const api::Plan* a, const api::Plan* b) { return Order(*a) < Order(*b); });
  r.start_plan = current->name;
  r.start_time = trace.front().timestamp;
  r.duration_seconds = trace.back().timestamp - trace.front().timestamp;

  // Offline: the cheapest plan holding each step, and always the top plan.
  double optimal_plan_seconds = 0;
  for (std::size_t i = 0; i + 1 < trace.size(); ++i) {
    const api::Plan* p = CheapestFitting(in_bounds, trace[i].used_memory_bytes, trace[i].connected_clients, 100, 100);
    optimal_plan_seconds += (p != nullptr ? p : top)->monthly_cost *
                            static_cast<double>(trace[i + 1].timestamp - trace[i].timestamp);
  }
  r.optimal_cost = optimal_plan_seconds / kBillingMonthSeconds;
  r.always_max_cost = top->monthly_cost * static_cast<double>(r.duration_seconds) / kBillingMonthSeconds;

  // Replay.
  const int64_t interval = std::max<int64_t>(spec.interval_seconds, 1);
  const int64_t keep = std::max(spec.scale_up.sustain_seconds, spec.scale_down.sustain_seconds) + interval;
  const int64_t end = trace.back().timestamp;
  std::vector<Sample> window;
  std::size_t wstart = 0;
  History history;
  double plan_seconds = 0;
  std::size_t i = 0;  // the trace point in effect
  int64_t t = trace.front().timestamp;
  int64_t next_tick = t;
  while (t < end) {
    if (t == next_tick) {
      const TracePoint& p = trace[i];
      const TimePoint now{std::chrono::seconds(t)};
      window.push_back(Sample{now, true, p.used_memory_bytes, p.connected_clients, 0, 0});
      const TimePoint oldest = now - std::chrono::seconds(keep);
      while (wstart < window.size() && window[wstart].time < oldest) ++wstart;
      if (wstart > 1024 && wstart * 2 > window.size()) {
        window.erase(window.begin(), window.begin() + static_cast<std::ptrdiff_t>(wstart));
        wstart = 0;
      }
      Decision d = Decide(spec, *current, std::span<const Sample>(window).subspan(wstart), history, now);
      if (d.action != Action::kNone && d.target_plan != current->name) {
        if (const api::Plan* next = FindPlan(spec.plans, d.target_plan)) {
          r.decisions.push_back(SimDecision{t, current->name, next->name, d.reason});
          current = next;
          history.last_action = now;
        }
      }
      next_tick += interval;
    }
    const int64_t step_end = std::min({next_tick, end, i + 1 < trace.size() ? trace[i + 1].timestamp : end});
    const int64_t dt = step_end - t;
    plan_seconds += current->monthly_cost * static_cast<double>(dt);
    if (trace[i].used_memory_bytes > MemoryBytes(*current) || trace[i].connected_clients > current->max_clients)
      r.breach_seconds += dt;
    t = step_end;
    while (i + 1 < trace.size() && trace[i + 1].timestamp <= t) ++i;
  }
  r.total_cost = plan_seconds / kBillingMonthSeconds;
  r.changes = static_cast<int64_t>(r.decisions.size());
  return r;
}

std::string SimulationJson(const SimulationResult& r) {
  nlohmann::json decisions = nlohmann::json::array();
  for (const auto& d : r.decisions)
    decisions.push_back({{"time", d.time}, {"from", d.from}, {"to", d.to}, {"reason", d.reason}});
  nlohmann::json j = {{"total_cost", Round6(r.total_cost)},
                      {"always_max_cost", Round6(r.always_max_cost)},
                      {"optimal_cost", Round6(r.optimal_cost)},
                      {"breach_seconds", r.breach_seconds},
                      {"changes", r.changes},
                      {"decisions", decisions}};
  return j.dump();
}

std::string SimulationText(const SimulationResult& r) {
  std::string out;
  out += fmt::format("trace:           {} ({} s) from t={}\n", Offset(r.duration_seconds), r.duration_seconds,
                     r.start_time);
  out += fmt::format("start plan:      {}\n", r.start_plan.empty() ? "(none in bounds)" : r.start_plan);
  out += fmt::format("total cost:      {:.2f}\n", r.total_cost);
  out += fmt::format("always maxPlan:  {:.2f}\n", r.always_max_cost);
  out += fmt::format("optimal (bound): {:.2f}\n", r.optimal_cost);
  out += fmt::format("breach seconds:  {}\n", r.breach_seconds);
  out += fmt::format("changes:         {}\n", r.changes);
  for (const auto& d : r.decisions)
    out += fmt::format("  t={} ({})  {} -> {}: {}\n", d.time, Offset(d.time - r.start_time), d.from, d.to, d.reason);
  out += "costs: monthly cost prorated over a 730-hour month\n";
  return out;
}

std::string PlotSvg(std::span<const TracePoint> trace, const SimulationResult& result,
                    const api::ScalingPolicySpec& spec) {
  constexpr double kW = 1000, kH = 440, kLeft = 80, kRight = 20, kTop = 50, kBottom = 60;
  constexpr double kMiB = 1024.0 * 1024.0;
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  const double t0 = trace.empty() ? 0 : static_cast<double>(trace.front().timestamp);
  const double span = std::max<double>(1, trace.empty() ? 0 : static_cast<double>(trace.back().timestamp) - t0);

  // The plan in effect, as steps [time, memory MiB].
  std::vector<std::pair<double, double>> steps;
  auto mib_of = [&](const std::string& name) {
    const api::Plan* p = FindPlan(spec.plans, name);
    return p != nullptr ? static_cast<double>(p->memory_mib) : 0.0;
  };
  if (!result.start_plan.empty()) steps.push_back({t0, mib_of(result.start_plan)});
  for (const auto& d : result.decisions) steps.push_back({static_cast<double>(d.time), mib_of(d.to)});

  double ymax = 1;
  for (const auto& p : trace) ymax = std::max(ymax, static_cast<double>(p.used_memory_bytes) / kMiB);
  for (const auto& s : steps) ymax = std::max(ymax, s.second);
  const double ystep = NiceStep(ymax * 1.1 / 6);
  ymax = std::ceil(ymax * 1.1 / ystep) * ystep;
  const double hours = span / 3600;
  const double xstep = NiceStep(hours / 10);

  auto X = [&](double t) { return kLeft + (t - t0) / span * pw; };
  auto Y = [&](double mib) { return kTop + ph - mib / ymax * ph; };

  std::string s;
  s += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n",
      kW, kH);
  s += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"white\"/>\n", kW, kH);
  s += fmt::format(
      "<text x=\"{}\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">Used memory vs plan capacity "
      "(cost {:.2f}, always max {:.2f}, optimal {:.2f}, {} changes, {} s in breach)</text>\n",
      kW / 2, result.total_cost, result.always_max_cost, result.optimal_cost, result.changes,
      result.breach_seconds);
  // Grid and axes.
  for (double v = 0; v <= ymax + ystep / 2; v += ystep) {
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n", kLeft, Y(v),
                     kLeft + pw, Y(v));
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{:g}</text>\n", kLeft - 6, Y(v) + 4, v);
  }
  for (double h = 0; h <= hours + xstep / 2; h += xstep) {
    double x = X(t0 + h * 3600);
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#eee\"/>\n", x, kTop, x,
                     kTop + ph);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{:g}</text>\n", x, kTop + ph + 18, h);
  }
  s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"black\"/>\n", kLeft, kTop, kTop + ph);
  s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"black\"/>\n", kLeft, kTop + ph,
                   kLeft + pw);
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">time (hours from start)</text>\n",
                   kLeft + pw / 2, kH - 14);
  s += fmt::format(
      "<text x=\"18\" y=\"{0:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {0:.1f})\">memory "
      "(MiB)</text>\n",
      kTop + ph / 2);

  // Used memory: min and max per pixel column, so spikes survive long traces.
  std::string pts;
  int col = -1;
  double lo = 0, hi = 0;
  auto flush = [&]() {
    if (col < 0) return;
    double x = kLeft + col;
    pts += fmt::format("{:.1f},{:.1f} ", x, Y(lo));
    if (hi != lo) pts += fmt::format("{:.1f},{:.1f} ", x, Y(hi));
  };
  for (const auto& p : trace) {
    int c = static_cast<int>(std::floor(X(static_cast<double>(p.timestamp)) - kLeft));
    double v = static_cast<double>(p.used_memory_bytes) / kMiB;
    if (c != col) {
      flush();
      col = c;
      lo = hi = v;
    } else {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  flush();
  s += fmt::format("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1\" points=\"{}\"/>\n", pts);

  // Capacity of the plan in effect: a step line, each plan named where there is room.
  if (!steps.empty()) {
    std::string path = fmt::format("M{:.1f},{:.1f}", X(steps[0].first), Y(steps[0].second));
    for (std::size_t k = 1; k < steps.size(); ++k)
      path += fmt::format(" H{:.1f} V{:.1f}", X(steps[k].first), Y(steps[k].second));
    path += fmt::format(" H{:.1f}", kLeft + pw);
    s += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>\n", path);
    for (std::size_t k = 0; k < steps.size(); ++k) {
      double x0 = X(steps[k].first);
      double x1 = k + 1 < steps.size() ? X(steps[k + 1].first) : kLeft + pw;
      if (x1 - x0 < 60) continue;
      std::string name = k == 0 ? result.start_plan : result.decisions[k - 1].to;
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#d62728\" font-size=\"10\">{}</text>\n", x0 + 3,
                       Y(steps[k].second) - 4, XmlEscape(name));
    }
  }
  // Legend.
  s += fmt::format("<line x1=\"{0}\" y1=\"38\" x2=\"{1}\" y2=\"38\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n",
                   kLeft + 10, kLeft + 40);
  s += fmt::format("<text x=\"{}\" y=\"42\">used memory</text>\n", kLeft + 46);
  s += fmt::format("<line x1=\"{0}\" y1=\"38\" x2=\"{1}\" y2=\"38\" stroke=\"#d62728\" stroke-width=\"2\"/>\n",
                   kLeft + 160, kLeft + 190);
  s += fmt::format("<text x=\"{}\" y=\"42\">plan capacity (memory)</text>\n", kLeft + 196);
  s += "</svg>\n";
  return s;
}

}  // namespace redisfleet::scaling
