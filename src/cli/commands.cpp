#include "cli/commands.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/codec.h"
#include "api/validation.h"
#include "common/fs.h"
#include "store/dir_store.h"

namespace redisfleet::cli {

int Validate(const std::vector<std::string>& files, std::ostream& out, std::ostream& err) {
  std::vector<api::Problem> problems;
  std::vector<api::SourcedObject> objects;
  for (const auto& file : files) {
    auto text = ReadFile(file);
    if (!text) {
      problems.push_back(api::Problem{file, 0, "", "", "", "cannot read file"});
      continue;
    }
    for (auto& doc : api::ParseYaml(*text, file)) {
      for (auto& p : doc.problems) problems.push_back(std::move(p));
      if (doc.object) objects.push_back(api::SourcedObject{file, doc.doc, std::move(*doc.object)});
    }
  }
  for (auto& p : api::ValidateSet(objects, /*check_references=*/true)) problems.push_back(std::move(p));
  for (const auto& p : problems) err << p.ToString() << "\n";
  if (!problems.empty()) return 1;
  out << objects.size() << " resources valid\n";
  return 0;
}

std::string HumanAge(Duration d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 0) s = 0;
  if (s < 120) return fmt::format("{}s", s);
  if (s < 2 * 3600) return fmt::format("{}m", s / 60);
  if (s < 2 * 86400) return fmt::format("{}h", s / 3600);
  return fmt::format("{}d", s / 86400);
}

std::string FormatTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& r : rows) {
    if (widths.size() < r.size()) widths.resize(r.size(), 0);
    for (std::size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(widths[i] - r[i].size() + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

namespace {

std::string Age(const api::ObjectMeta& m, TimePoint now) {
  return m.creation_timestamp ? HumanAge(now - *m.creation_timestamp) : "<unknown>";
}

std::vector<std::vector<std::string>> Rows(api::Kind kind, const std::vector<api::Object>& objects,
                                           TimePoint now) {
  std::vector<std::vector<std::string>> rows;
  switch (kind) {
    case api::Kind::kRedisInstance:
      rows.push_back({"NAMESPACE", "NAME", "PHASE", "PLAN", "MEMORY", "HOST", "ENDPOINT", "EXPIRES", "AGE"});
      for (const auto& o : objects) {
        const auto& ri = std::get<api::RedisInstance>(o);
        const auto& s = ri.status;
        std::string ep = s.endpoint.port ? fmt::format("{}:{}", s.endpoint.host, s.endpoint.port) : "";
        std::string mem = s.memory_mib ? fmt::format("{}Mi", s.memory_mib) : "";
        std::string expires = s.expires_at ? (*s.expires_at > now ? "in " + HumanAge(*s.expires_at - now)
                                                                  : "expired")
                                           : "never";
        rows.push_back({ri.metadata.namespace_, ri.metadata.name, std::string(api::EnumName(s.phase)),
                        s.plan.empty() ? "-" : s.plan, mem, s.host, ep, expires,
                        Age(ri.metadata, now)});
      }
      break;
    case api::Kind::kHostPool:
      rows.push_back({"NAMESPACE", "NAME", "PROVIDER", "RUNTIME", "READY", "STANDBY", "COST", "AGE"});
      for (const auto& o : objects) {
        const auto& hp = std::get<api::HostPool>(o);
        rows.push_back({hp.metadata.namespace_, hp.metadata.name,
                        std::string(api::EnumName(hp.spec.provider)),
                        std::string(api::EnumName(hp.spec.runtime)),
                        std::to_string(hp.status.ready_hosts), std::to_string(hp.status.standby_hosts),
                        fmt::format("{:.2f}", hp.status.monthly_cost), Age(hp.metadata, now)});
      }
      break;
    case api::Kind::kScalingPolicy:
      rows.push_back({"NAMESPACE", "NAME", "TARGET", "MODE", "LAST DECISION", "AGE"});
      for (const auto& o : objects) {
        const auto& sp = std::get<api::ScalingPolicy>(o);
        std::string target = sp.spec.target_ref.name;
        if (target.empty()) {
          for (const auto& [k, v] : sp.spec.target_ref.match_labels)
            target += (target.empty() ? "" : ",") + k + "=" + v;
        }
        std::string last;
        if (!sp.status.decisions.empty()) {
          const auto& d = sp.status.decisions.back();
          last = fmt::format("{} {} {}->{}", d.action, d.instance, d.from, d.to);
        }
        rows.push_back({sp.metadata.namespace_, sp.metadata.name, target,
                        std::string(api::EnumName(sp.spec.mode)), last, Age(sp.metadata, now)});
      }
      break;
  }
  return rows;
}

}  // namespace

int Get(const std::string& state_dir, const std::string& kind_name, OutputFormat format,
        TimePoint now, std::ostream& out, std::ostream& err) {
  std::vector<api::Kind> kinds;
  if (kind_name.empty() || kind_name == "all") {
    kinds = {api::Kind::kHostPool, api::Kind::kRedisInstance, api::Kind::kScalingPolicy};
  } else {
    auto k = api::ParseKindName(kind_name);
    if (!k) {
      err << "error: the resource type \"" << kind_name
          << "\" is not known (redisinstances|ri, hostpools|hp, scalingpolicies|sp)\n";
      return 1;
    }
    kinds = {*k};
  }
  nlohmann::json items = nlohmann::json::array();
  bool first_table = true;
  std::size_t shown = 0;
  for (api::Kind kind : kinds) {
    auto objects = store::DirStore::ReadState(state_dir, kind);
    if (!objects) {
      err << "error: " << objects.error().message() << "\n";
      return 1;
    }
    shown += objects->size();
    if (format == OutputFormat::kJson) {
      for (const auto& o : *objects) items.push_back(api::ToJson(o));
      continue;
    }
    if (objects->empty()) continue;
    if (!first_table) out << "\n";
    first_table = false;
    if (kinds.size() > 1) out << api::KindPlural(kind) << ":\n";
    out << FormatTable(Rows(kind, *objects, now));
  }
  if (format == OutputFormat::kJson) {
    nlohmann::json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", items}};
    out << list.dump(2) << "\n";
  } else if (shown == 0) {
    err << "No resources found.\n";
  }
  auto problems = store::DirStore::ReadProblems(state_dir);
  if (problems && !problems->empty()) {
    err << "warning: " << problems->size() << " invalid resource(s) skipped:\n";
    for (const auto& p : *problems) err << "  " << p.ToString() << "\n";
  }
  return 0;
}

}  // namespace redisfleet::cli
