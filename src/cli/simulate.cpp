#include "cli/simulate.h"

#include <optional>
#include <vector>

#include <fmt/format.h>

#include "api/codec.h"
#include "common/fs.h"
#include "scaling/simulator.h"

namespace redisfleet::cli {

int RunSimulate(const std::string& policy_file, const std::string& trace_file, const std::string& output,
                const std::string& plot_file, std::ostream& out, std::ostream& err) {
  if (output != "text" && output != "json") {
    err << "error: -o must be text or json (got " << output << ")\n";
    return 1;
  }
  auto text = ReadFile(policy_file);
  if (!text) {
    err << policy_file << ": cannot read file: " << text.error().message() << "\n";
    return 1;
  }
  std::vector<api::Problem> problems;
  std::optional<api::ScalingPolicy> policy;
  int policy_doc = 0;
  for (auto& doc : api::ParseYaml(*text, policy_file)) {
    for (auto& p : doc.problems) problems.push_back(std::move(p));
    if (!doc.object) continue;
    const auto& meta = api::MetaOf(*doc.object);
    const std::string kind(api::EnumName(api::KindOf(*doc.object)));
    if (api::KindOf(*doc.object) != api::Kind::kScalingPolicy) {
      problems.push_back({policy_file, doc.doc, kind, meta.key().ToString(), "kind",
                          fmt::format("must be ScalingPolicy (got {})", kind)});
    } else if (policy) {
      problems.push_back({policy_file, doc.doc, kind, meta.key().ToString(), "kind",
                          fmt::format("only one ScalingPolicy per file, the first is doc {} (got another)", policy_doc)});
    } else {
      policy = std::get<api::ScalingPolicy>(std::move(*doc.object));
      policy_doc = doc.doc;
    }
  }
  if (problems.empty() && !policy)
    problems.push_back({policy_file, 0, "", "", "", "must hold one ScalingPolicy document (got none)"});
  if (problems.empty() && policy->spec.plans.empty())
    problems.push_back({policy_file, policy_doc, "ScalingPolicy", policy->metadata.key().ToString(), "spec.plans",
                        "simulate needs the plans listed with their monthlyCost (got planCatalog only)"});
  for (const auto& p : problems) err << p.ToString() << "\n";
  if (!problems.empty()) return 1;

  auto csv = ReadFile(trace_file);
  if (!csv) {
    err << trace_file << ": cannot read file: " << csv.error().message() << "\n";
    return 1;
  }
  auto trace = scaling::ParseTraceCsv(*csv, trace_file);
  if (!trace) {
    err << trace.error().message() << "\n";
    return 1;
  }
  const scaling::SimulationResult result = scaling::Simulate(policy->spec, *trace);
  if (output == "json") {
    out << scaling::SimulationJson(result) << "\n";
  } else {
    out << scaling::SimulationText(result);
  }
  if (!plot_file.empty()) {
    Status written = WriteFileAtomic(plot_file, scaling::PlotSvg(*trace, result, policy->spec));
    if (!written.ok()) {
      err << plot_file << ": cannot write the plot: " << written.message() << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace redisfleet::cli
