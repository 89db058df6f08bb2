#include "scaling/engine.h"

#include <algorithm>
#include <chrono>
#include <tuple>

#include <fmt/format.h>

namespace redisfleet::scaling {
namespace {

constexpr int64_t kMiB = 1024 * 1024;

auto Order(const api::Plan& p) { return std::tie(p.memory_mib, p.monthly_cost); }

double Percent(int64_t used, int64_t capacity) {
  if (capacity <= 0) return used > 0 ? 1e9 : 0;
  return 100.0 * static_cast<double>(used) / static_cast<double>(capacity);
}

int64_t Seconds(Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

// "91%", "80.3%": one decimal only when it is not zero, so "80.3% > 80%" never reads "80% > 80%".
std::string Pct(double p) {
  std::string s = fmt::format("{:.1f}", p);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s + "%";
}

// The samples of one sustain period: [anchor, end) where end is the first sample after `now`
// and anchor the latest sample (ok samples only when `ok_only`) at or before now - sustain.
struct Period {
  bool covered = false;  // an anchor exists: the window reaches back far enough
  std::size_t begin = 0;
  std::size_t end = 0;
};

Period FindPeriod(std::span<const Sample> w, TimePoint now, int64_t sustain_seconds, bool ok_only) {
  Period p;
  p.end = static_cast<std::size_t>(
      std::upper_bound(w.begin(), w.end(), now, [](TimePoint t, const Sample& s) { return t < s.time; }) -
      w.begin());
  const TimePoint start = now - std::chrono::seconds(sustain_seconds);
  for (std::size_t i = p.end; i-- > 0;) {
    if (w[i].time > start || (ok_only && !w[i].ok)) continue;
    p.covered = true;
    p.begin = i;
    return p;
  }
  p.begin = 0;  // not covered: the whole window up to now
  return p;
}

struct Usage {
  int64_t max_memory = 0;
  int64_t max_clients = 0;
  int64_t ok = 0;
  int64_t failed = 0;
  int64_t evicted = 0;
  int64_t rejected = 0;
};

// Max use and counter increases in [begin, end). Increases are between consecutive ok samples
// whose later one is in the range and after `after` (when set); the earlier one may precede it.
Usage Measure(std::span<const Sample> w, std::size_t begin, std::size_t end,
              std::optional<TimePoint> after) {
  Usage u;
  const Sample* prev = nullptr;
  for (std::size_t i = begin; i-- > 0;) {
    if (w[i].ok) {
      prev = &w[i];
      break;
    }
  }
  for (std::size_t i = begin; i < end; ++i) {
    const Sample& s = w[i];
    if (!s.ok) {
      ++u.failed;
      continue;
    }
    ++u.ok;
    u.max_memory = std::max(u.max_memory, s.used_memory_bytes);
    u.max_clients = std::max(u.max_clients, s.connected_clients);
    if (prev != nullptr && (!after || s.time > *after)) {
      u.evicted += std::max<int64_t>(0, s.evicted_keys_total - prev->evicted_keys_total);
      u.rejected += std::max<int64_t>(0, s.rejected_connections_total - prev->rejected_connections_total);
    }
    prev = &s;
  }
  return u;
}

// True when the range has an ok sample and every ok sample satisfies `pred`.
template <typename Pred>
bool AllOk(std::span<const Sample> w, std::size_t begin, std::size_t end, Pred pred) {
  bool any = false;
  for (std::size_t i = begin; i < end; ++i) {
    if (!w[i].ok) continue;
    any = true;
    if (!pred(w[i])) return false;
  }
  return any;
}

Decision Stay(const api::Plan& current, std::string reason, Decision d) {
  d.action = Action::kNone;
  d.target_plan = current.name;
  d.reason = std::move(reason);
  return d;
}

Decision Move(const api::Plan& current, const api::Plan& target, std::string reason, Decision d) {
  d.action = Order(target) > Order(current) ? Action::kScaleUp : Action::kScaleDown;
  d.target_plan = target.name;
  d.reason = std::move(reason);
  return d;
}

}  // namespace

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kNone:
      return "None";
    case Action::kScaleUp:
      return "ScaleUp";
    case Action::kScaleDown:
      return "ScaleDown";
  }
  return "";
}

int64_t MemoryBytes(const api::Plan& plan) { return plan.memory_mib * kMiB; }

const api::Plan* FindPlan(const std::vector<api::Plan>& plans, std::string_view name) {
  for (const auto& p : plans)
    if (p.name == name) return &p;
  return nullptr;
}

std::vector<const api::Plan*> PlansInBounds(const api::ScalingPolicySpec& spec) {
  const api::Plan* lo = spec.min_plan.empty() ? nullptr : FindPlan(spec.plans, spec.min_plan);
  const api::Plan* hi = spec.max_plan.empty() ? nullptr : FindPlan(spec.plans, spec.max_plan);
  std::vector<const api::Plan*> out;
  if ((!spec.min_plan.empty() && lo == nullptr) || (!spec.max_plan.empty() && hi == nullptr)) return out;
  for (const auto& p : spec.plans) {
    if (lo != nullptr && Order(p) < Order(*lo)) continue;
    if (hi != nullptr && Order(p) > Order(*hi)) continue;
    out.push_back(&p);
  }
  return out;
}

const api::Plan* CheapestFitting(std::span<const api::Plan* const> candidates, int64_t used_memory_bytes,
                                 int64_t clients, double memory_percent, double connections_percent) {
  const api::Plan* best = nullptr;
  for (const api::Plan* p : candidates) {
    if (Percent(used_memory_bytes, MemoryBytes(*p)) > memory_percent ||
        Percent(clients, p->max_clients) > connections_percent)
      continue;
    if (best == nullptr || p->monthly_cost < best->monthly_cost ||
        (p->monthly_cost == best->monthly_cost && Order(*p) < Order(*best)))
      best = p;
  }
  return best;
}

Decision Decide(const api::ScalingPolicySpec& spec, const api::Plan& current, std::span<const Sample> window,
                const History& history, TimePoint now) {
  Decision d;
  d.target_plan = current.name;
  const double mem_target = static_cast<double>(spec.targets.memory_percent);
  const double conn_target = static_cast<double>(spec.targets.connections_percent);
  const int64_t mem_cap = MemoryBytes(current);

  // Evidence over the scaleUp period; the latest ok sample.
  const Period up = FindPeriod(window, now, spec.scale_up.sustain_seconds, /*ok_only=*/true);
  const Usage up_use = Measure(window, up.begin, up.end, history.last_action);
  const Sample* latest = nullptr;
  for (std::size_t i = up.end; i-- > 0;) {
    if (window[i].ok) {
      latest = &window[i];
      break;
    }
  }
  d.evidence.memory_percent_max = Percent(up_use.max_memory, mem_cap);
  d.evidence.connections_percent_max = Percent(up_use.max_clients, current.max_clients);
  d.evidence.evicted_keys = up_use.evicted;
  d.evidence.rejected_connections = up_use.rejected;
  d.evidence.samples = up_use.ok;
  d.evidence.failed_samples = up_use.failed;
  if (latest != nullptr) {
    d.evidence.memory_percent = Percent(latest->used_memory_bytes, mem_cap);
    d.evidence.connections_percent = Percent(latest->connected_clients, current.max_clients);
  }
  const bool counters_rose = up_use.evicted > 0 || up_use.rejected > 0;
  d.breaching = latest != nullptr && (d.evidence.memory_percent > mem_target ||
                                      d.evidence.connections_percent > conn_target || counters_rose);

  // 1. Something to choose from.
  if (spec.plans.empty()) return Stay(current, "no plans in the catalogue", d);
  for (auto [field, name] : {std::pair{"minPlan", &spec.min_plan}, std::pair{"maxPlan", &spec.max_plan}}) {
    if (!name->empty() && FindPlan(spec.plans, *name) == nullptr)
      return Stay(current, fmt::format("{} {} is not in the catalogue", field, *name), d);
  }
  const std::vector<const api::Plan*> in_bounds = PlansInBounds(spec);
  if (in_bounds.empty()) return Stay(current, "no plan between minPlan and maxPlan", d);
  const api::Plan* top = *std::max_element(in_bounds.begin(), in_bounds.end(),
                                           [](const api::Plan* a, const api::Plan* b) { return Order(*a) < Order(*b); });
  const api::Plan* bottom = *std::min_element(
      in_bounds.begin(), in_bounds.end(), [](const api::Plan* a, const api::Plan* b) { return Order(*a) < Order(*b); });
  const api::Plan* in_catalogue = FindPlan(spec.plans, current.name);
  const bool custom = in_catalogue == nullptr;
  auto mem_pct_on = [](int64_t used, const api::Plan& p) { return Percent(used, MemoryBytes(p)); };

  // 2. Bounds are hard.
  bool below = false;
  bool above = false;
  if (custom) {
    below = current.memory_mib < bottom->memory_mib;
    above = current.memory_mib > top->memory_mib;
  } else if (std::find(in_bounds.begin(), in_bounds.end(), in_catalogue) == in_bounds.end()) {
    below = Order(current) < Order(*bottom);
    above = !below;
  }
  if (below || above) {
    // Below: up to the cheapest plan that holds the recent use. Above: down to maxPlan only;
    // anything lower needs the scale-down rule's evidence.
    const api::Plan* fit =
        below ? CheapestFitting(in_bounds, up_use.max_memory, up_use.max_clients, mem_target, conn_target) : nullptr;
    const api::Plan* target = fit != nullptr ? fit : top;
    std::string what = custom ? fmt::format("custom plan {} ({} MiB)", current.name, current.memory_mib) : current.name;
    return Move(current, *target,
                fmt::format("{} is {} {} {}", what, below ? "below" : "above", below ? "minPlan" : "maxPlan",
                            below ? bottom->name : top->name),
                d);
  }

  // 3. Cooldown.
  if (history.last_action && now < *history.last_action + std::chrono::seconds(spec.cooldown_seconds)) {
    return Stay(current,
                fmt::format("cooldown: {}s left",
                            Seconds(*history.last_action + std::chrono::seconds(spec.cooldown_seconds) - now)),
                d);
  }

  // 4. Scale up.
  const bool mem_sustained = up.covered && AllOk(window, up.begin, up.end, [&](const Sample& s) {
    return Percent(s.used_memory_bytes, mem_cap) > mem_target;
  });
  const bool conn_sustained = up.covered && AllOk(window, up.begin, up.end, [&](const Sample& s) {
    return Percent(s.connected_clients, current.max_clients) > conn_target;
  });
  const int64_t up_s = spec.scale_up.sustain_seconds;
  if (mem_sustained || conn_sustained || counters_rose) {
    std::vector<std::string> why;
    if (mem_sustained)
      why.push_back(fmt::format("memory {} > {} for {}s", Pct(d.evidence.memory_percent), Pct(mem_target), up_s));
    if (conn_sustained)
      why.push_back(fmt::format("connections {} > {} for {}s", Pct(d.evidence.connections_percent),
                                Pct(conn_target), up_s));
    if (up_use.evicted > 0) why.push_back(fmt::format("{} keys evicted", up_use.evicted));
    if (up_use.rejected > 0) why.push_back(fmt::format("{} connections rejected", up_use.rejected));
    std::string reason = fmt::format("{}", fmt::join(why, ", "));
    if (!custom && in_catalogue == top) return Stay(current, fmt::format("at maxPlan {}: {}", top->name, reason), d);
    std::vector<const api::Plan*> bigger;
    for (const api::Plan* p : in_bounds) {
      if (p->name == current.name) continue;
      if (up_use.evicted > 0 && p->memory_mib <= current.memory_mib) continue;
      if (up_use.rejected > 0 && p->max_clients <= current.max_clients) continue;
      bigger.push_back(p);
    }
    const api::Plan* fit = CheapestFitting(bigger, up_use.max_memory, up_use.max_clients, mem_target, conn_target);
    if (fit == nullptr) {
      if (custom && Order(current) >= Order(*top))
        return Stay(current, fmt::format("at maxPlan {}: {}", top->name, reason), d);
      return Move(current, *top, fmt::format("{}; no plan fits, maxPlan {}", reason, top->name), d);
    }
    return Move(current, *fit,
                fmt::format("{}; {} fits (memory {}, connections {})", reason, fit->name,
                            Pct(mem_pct_on(up_use.max_memory, *fit)), Pct(Percent(up_use.max_clients, fit->max_clients))),
                d);
  }
  if (d.breaching) {
    std::string what = d.evidence.memory_percent > mem_target
                           ? fmt::format("memory {} > {}", Pct(d.evidence.memory_percent), Pct(mem_target))
                           : fmt::format("connections {} > {}", Pct(d.evidence.connections_percent), Pct(conn_target));
    if (!up.covered) return Stay(current, fmt::format("{}, metrics cover less than {}s", what, up_s), d);
    return Stay(current, fmt::format("{}, not yet for {}s", what, up_s), d);
  }

  // 5. Scale down.
  const double mem_low = mem_target - static_cast<double>(spec.scale_down.buffer_percent);
  const double conn_low = conn_target - static_cast<double>(spec.scale_down.buffer_percent);
  std::string within = latest == nullptr
                           ? "no metrics"
                           : fmt::format("within targets (memory {}, connections {})", Pct(d.evidence.memory_percent),
                                         Pct(d.evidence.connections_percent));
  if (latest == nullptr || d.evidence.memory_percent >= mem_low || d.evidence.connections_percent >= conn_low)
    return Stay(current, within, d);

  const int64_t down_s = spec.scale_down.sustain_seconds;
  const Period down = FindPeriod(window, now, down_s, /*ok_only=*/false);
  const Usage down_use = Measure(window, down.begin, down.end, std::nullopt);
  d.evidence.memory_percent_max = Percent(down_use.max_memory, mem_cap);
  d.evidence.connections_percent_max = Percent(down_use.max_clients, current.max_clients);
  d.evidence.samples = down_use.ok;
  d.evidence.failed_samples = down_use.failed;
  if (!custom && in_catalogue == bottom)
    return Stay(current, within + (spec.min_plan.empty() ? ", at the lowest plan" : ", at minPlan"), d);
  if (!down.covered) return Stay(current, fmt::format("{}, metrics cover less than {}s", within, down_s), d);
  if (down_use.failed > 0)
    return Stay(current, fmt::format("{}, {} failed scrapes in the last {}s", within, down_use.failed, down_s), d);
  const int64_t max_gap = 2 * std::max<int64_t>(spec.interval_seconds, 1);
  int64_t gap = Seconds(now - window[down.end - 1].time);
  for (std::size_t i = down.begin + 1; i < down.end; ++i)
    gap = std::max(gap, Seconds(window[i].time - window[i - 1].time));
  if (gap > max_gap) return Stay(current, fmt::format("{}, metrics gap of {}s", within, gap), d);
  if (down_use.evicted > 0 || down_use.rejected > 0)
    return Stay(current, fmt::format("{}, evictions or rejections in the last {}s", within, down_s), d);
  if (Percent(down_use.max_memory, mem_cap) >= mem_low || Percent(down_use.max_clients, current.max_clients) >= conn_low)
    return Stay(current,
                fmt::format("{}, not below {} / {} for {}s (max memory {}, connections {})", within, Pct(mem_low),
                            Pct(conn_low), down_s, Pct(d.evidence.memory_percent_max),
                            Pct(d.evidence.connections_percent_max)),
                d);

  const double lower_max = static_cast<double>(spec.scale_down.lower_plan_max_percent);
  std::vector<const api::Plan*> lower;
  for (const api::Plan* p : in_bounds) {
    if (!(Order(*p) < Order(current))) continue;
    if (!custom && !(p->monthly_cost < current.monthly_cost)) continue;
    if (!(mem_pct_on(down_use.max_memory, *p) < lower_max) || !(Percent(down_use.max_clients, p->max_clients) < lower_max))
      continue;
    lower.push_back(p);
  }
  const api::Plan* fit = CheapestFitting(lower, down_use.max_memory, down_use.max_clients, mem_target, conn_target);
  if (fit == nullptr)
    return Stay(current, fmt::format("{}, no lower plan keeps use under {}", within, Pct(lower_max)), d);
  return Move(current, *fit,
              fmt::format("memory {} < {} and connections {} < {} for {}s; {} at most memory {}, connections {}",
                          Pct(d.evidence.memory_percent_max), Pct(mem_low), Pct(d.evidence.connections_percent_max),
                          Pct(conn_low), down_s, fit->name, Pct(mem_pct_on(down_use.max_memory, *fit)),
                          Pct(Percent(down_use.max_clients, fit->max_clients))),
              d);
}

}  // namespace redisfleet::scaling
