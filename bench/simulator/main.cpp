// Simulator throughput and the cost of the shipped diurnal trace.
//   bench_simulator [days=30] [interval_seconds=10]
// 1. Generates `days` of 1 s samples in memory (a diurnal curve with noise) and times Simulate
//    in CPU seconds (getrusage): "days of 1 s samples simulated per CPU second".
// 2. Runs examples/simulate/{policy.yaml,diurnal.csv} and prints total vs always-max vs
//    optimal cost and the number of changes. Figures only, no asserts.

#include <sys/resource.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "api/codec.h"
#include "scaling/simulator.h"

namespace redisfleet {
namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

api::ScalingPolicySpec ThroughputSpec(int64_t interval) {
  api::ScalingPolicySpec s;
  s.target_ref.name = "bench";
  s.interval_seconds = interval;
  s.scale_up.sustain_seconds = 60;
  s.scale_down = {600, 5, 75};
  s.cooldown_seconds = 300;
  s.plans = {{"premium-0", 50, 40, 15}, {"premium-1", 100, 80, 30}, {"premium-2", 250, 200, 60},
             {"premium-3", 500, 400, 120}};
  s.min_plan = "premium-0";
  s.max_plan = "premium-3";
  return s;
}

}  // namespace
}  // namespace redisfleet

int main(int argc, char** argv) {
  using namespace redisfleet;
  const int days = argc > 1 ? std::atoi(argv[1]) : 30;
  const int64_t interval = argc > 2 ? std::atoll(argv[2]) : 10;

  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> noise(-0.03, 0.03);
  std::vector<scaling::TracePoint> trace;
  trace.reserve(static_cast<std::size_t>(days) * 86400 + 1);
  for (int64_t t = 0; t <= int64_t{days} * 86400; ++t) {
    const double hour = static_cast<double>(t % 86400) / 3600;
    const double bump = hour >= 7 && hour <= 23 ? std::max(0.0, std::sin(M_PI * (hour - 7) / 16)) : 0.0;
    const double mib = (30 + 90 * std::pow(bump, 1.5)) * (1 + noise(rng));
    trace.push_back({t, static_cast<int64_t>(mib * 1024 * 1024), static_cast<int64_t>(8 + 60 * bump)});
  }
  const auto spec = ThroughputSpec(interval);
  const double c0 = CpuSeconds();
  const auto r = scaling::Simulate(spec, trace);
  const double cpu = CpuSeconds() - c0;
  fmt::print("simulator: {} days of 1 s samples ({} samples), intervalSeconds {}: {:.3f} CPU s, "
             "{:.0f} days of 1 s samples simulated per CPU second ({} changes)\n",
             days, trace.size(), interval, cpu, days / cpu, r.changes);

  const char* env = std::getenv("REDISFLEET_SOURCE_DIR");
  const std::string dir = std::string(env != nullptr ? env : REDISFLEET_SOURCE_DIR_DEFAULT) + "/examples/simulate/";
  auto docs = api::ParseYaml(Slurp(dir + "policy.yaml"), dir + "policy.yaml");
  if (docs.size() != 1 || !docs[0].object) {
    fmt::print("diurnal: cannot read {}policy.yaml\n", dir);
    return 1;
  }
  const auto policy = std::get<api::ScalingPolicy>(*docs[0].object).spec;
  auto diurnal = scaling::ParseTraceCsv(Slurp(dir + "diurnal.csv"), dir + "diurnal.csv");
  if (!diurnal) {
    fmt::print("diurnal: {}\n", diurnal.error().message());
    return 1;
  }
  const auto d = scaling::Simulate(policy, *diurnal);
  fmt::print("diurnal (examples/simulate, 7 days of 60 s samples): total {:.2f}, always-max {:.2f}, optimal {:.2f} "
             "(total = {:.0f}% of always-max, {:.0f}% above optimal), {} changes, {} breach seconds\n",
             d.total_cost, d.always_max_cost, d.optimal_cost, 100 * d.total_cost / d.always_max_cost,
             100 * (d.total_cost / d.optimal_cost - 1), d.changes, d.breach_seconds);
  return 0;
}
