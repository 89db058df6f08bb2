// Renders helm/redis-fleet/ with tests/unit/helm/chart_renderer (helm itself is not installable here)
// and checks the objects against manifests/, the chart's crds/ against crds/, and the Grafana
// dashboard's queries against the metrics src/metrics/metrics.cpp, src/redis/collector.cpp,
// src/notify/notifier.cpp and controller/main.cpp register.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "unit/helm/chart_renderer.h"

namespace redisfleet::helmtest {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string SourceDir() {
  if (const char* env = std::getenv("REDISFLEET_SOURCE_DIR")) return env;
  return REDISFLEET_HELM_SOURCE_DIR;
}
std::string ChartDir() { return SourceDir() + "/helm/redis-fleet"; }

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// YAML -> JSON with YAML 1.2 core-schema typing of plain scalars, so `replicas: 2` and
// `replicas: {{ .Values.replicas }}` compare equal while `"1"` and `1` do not.
json ToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
      if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
      static const std::regex kInt("[-+]?[0-9]+");
      static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
      if (std::regex_match(s, kInt)) return std::stoll(s);
      if (std::regex_match(s, kFloat)) return std::stod(s);
      return s;
    }
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& item : n) a.push_back(ToJson(item));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.Scalar()] = ToJson(kv.second);
      return o;
    }
  }
  return nullptr;
}

std::string Id(const json& obj) {
  return obj.value("kind", "?") + " " + obj["metadata"].value("namespace", "") + "/" +
         obj["metadata"].value("name", "?");
}

// Objects of manifests/*.yaml (not samples/).
std::vector<json> ManifestObjects() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(SourceDir() + "/manifests")) {
    if (e.is_regular_file() && e.path().extension() == ".yaml") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<json> out;
  for (const std::string& f : files) {
    for (const YAML::Node& d : YAML::LoadAll(Slurp(f))) {
      if (d.IsDefined() && !d.IsNull()) out.push_back(ToJson(d));
    }
  }
  return out;
}

std::vector<json> Render(const std::vector<std::pair<std::string, std::string>>& sets = {}) {
  auto chart = ChartRenderer::Load(ChartDir());
  EXPECT_TRUE(chart.ok()) << chart.error().ToString();
  if (!chart.ok()) return {};
  for (const auto& [path, value] : sets) {
    Status s = chart->Set(path, value);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  auto rendered = chart->RenderAll({"redis-fleet", "redis-fleet"});
  EXPECT_TRUE(rendered.ok()) << rendered.error().ToString();
  if (!rendered.ok()) return {};
  auto docs = ParseDocuments(*rendered);
  EXPECT_TRUE(docs.ok()) << docs.error().ToString();
  if (!docs.ok()) return {};
  std::vector<json> out;
  for (const YAML::Node& d : *docs) out.push_back(ToJson(d));
  return out;
}

const json* Find(const std::vector<json>& objs, const std::string& kind, const std::string& name) {
  for (const json& o : objs) {
    if (o.value("kind", "") == kind && o["metadata"].value("name", "") == name) return &o;
  }
  return nullptr;
}

std::set<std::string> Ids(const std::vector<json>& objs) {
  std::set<std::string> ids;
  for (const json& o : objs) ids.insert(Id(o));
  return ids;
}

// Objects only the chart has (grafanaDashboard.enabled).
const std::set<std::string> kChartOnly = {"ConfigMap redis-fleet/redis-fleet-dashboard"};

TEST(HelmChart, EveryObjectIsValidYamlWithApiVersionKindAndName) {
  const std::vector<json> objs = Render();
  ASSERT_FALSE(objs.empty());
  for (const json& o : objs) {
    ASSERT_TRUE(o.is_object()) << o.dump();
    EXPECT_TRUE(o.contains("apiVersion") && o["apiVersion"].is_string() &&
                !o["apiVersion"].get<std::string>().empty())
        << o.dump();
    EXPECT_TRUE(o.contains("kind") && o["kind"].is_string()) << o.dump();
    ASSERT_TRUE(o.contains("metadata") && o["metadata"].is_object()) << o.dump();
    EXPECT_TRUE(o["metadata"].contains("name") && o["metadata"]["name"].is_string() &&
                !o["metadata"]["name"].get<std::string>().empty())
        << o.dump();
    EXPECT_EQ(o["metadata"]["labels"].value("app.kubernetes.io/name", ""), "redis-fleet") << Id(o);
  }
}

TEST(HelmChart, KindsAndNamesMatchManifests) {
  std::set<std::string> want;
  for (const json& o : ManifestObjects()) {
    if (o["kind"] != "Namespace") want.insert(Id(o));  // helm install --create-namespace
  }
  std::set<std::string> got = Ids(Render());
  for (const std::string& extra : kChartOnly) {
    EXPECT_EQ(got.erase(extra), 1u) << extra;
  }
  EXPECT_EQ(got, want);
}

TEST(HelmChart, DeploymentEqualsManifest) {
  const std::vector<json> manifests = ManifestObjects();
  const std::vector<json> chart = Render();
  const json* m = Find(manifests, "Deployment", "redis-fleet");
  const json* c = Find(chart, "Deployment", "redis-fleet");
  ASSERT_NE(m, nullptr);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((*c)["metadata"]["namespace"], (*m)["metadata"]["namespace"]);
  EXPECT_EQ((*c)["spec"]["replicas"], (*m)["spec"]["replicas"]);
  const json& mpod = (*m)["spec"]["template"]["spec"];
  const json& cpod = (*c)["spec"]["template"]["spec"];
  EXPECT_EQ(cpod["securityContext"], mpod["securityContext"]);
  EXPECT_EQ(cpod["serviceAccountName"], mpod["serviceAccountName"]);
  EXPECT_EQ(cpod["volumes"], mpod["volumes"]);
  ASSERT_EQ(cpod["containers"].size(), 1u);
  ASSERT_EQ(mpod["containers"].size(), 1u);
  const json& mc = mpod["containers"][0];
  const json& cc = cpod["containers"][0];
  for (const char* field : {"name", "image", "imagePullPolicy", "args", "env", "ports", "livenessProbe",
                            "readinessProbe", "resources", "securityContext", "volumeMounts"}) {
    EXPECT_EQ(cc[field], mc[field]) << "containers[0]." << field << "\nchart:    " << cc[field].dump()
                                    << "\nmanifest: " << mc[field].dump();
  }
  // The pod template carries the selector's labels.
  for (const auto& [k, v] : (*c)["spec"]["selector"]["matchLabels"].items()) {
    EXPECT_EQ((*c)["spec"]["template"]["metadata"]["labels"][k], v) << k;
  }
}

TEST(HelmChart, RbacEqualsManifest) {
  const std::vector<json> manifests = ManifestObjects();
  const std::vector<json> chart = Render();
  for (const auto& [kind, name] : std::vector<std::pair<std::string, std::string>>{
           {"ClusterRole", "redis-fleet"}, {"Role", "redis-fleet-leader-election"}}) {
    const json* m = Find(manifests, kind, name);
    const json* c = Find(chart, kind, name);
    ASSERT_NE(m, nullptr) << kind << " " << name;
    ASSERT_NE(c, nullptr) << kind << " " << name;
    EXPECT_EQ((*c)["rules"], (*m)["rules"]) << kind << " " << name;
  }
  for (const auto& [kind, name] : std::vector<std::pair<std::string, std::string>>{
           {"ClusterRoleBinding", "redis-fleet"}, {"RoleBinding", "redis-fleet-leader-election"}}) {
    const json* m = Find(manifests, kind, name);
    const json* c = Find(chart, kind, name);
    ASSERT_NE(m, nullptr) << kind << " " << name;
    ASSERT_NE(c, nullptr) << kind << " " << name;
    EXPECT_EQ((*c)["roleRef"], (*m)["roleRef"]) << kind << " " << name;
    EXPECT_EQ((*c)["subjects"], (*m)["subjects"]) << kind << " " << name;
  }
}

TEST(HelmChart, MetricsServiceAndServiceMonitorEqualManifest) {
  const std::vector<json> manifests = ManifestObjects();
  const std::vector<json> chart = Render();
  const json* ms = Find(manifests, "Service", "redis-fleet-metrics");
  const json* cs = Find(chart, "Service", "redis-fleet-metrics");
  ASSERT_NE(ms, nullptr);
  ASSERT_NE(cs, nullptr);
  EXPECT_EQ((*cs)["spec"]["ports"], (*ms)["spec"]["ports"]);
  const json* mm = Find(manifests, "ServiceMonitor", "redis-fleet");
  const json* cm = Find(chart, "ServiceMonitor", "redis-fleet");
  ASSERT_NE(mm, nullptr);
  ASSERT_NE(cm, nullptr);
  EXPECT_EQ((*cm)["spec"]["endpoints"], (*mm)["spec"]["endpoints"]);
  // The chart's selectors carry app.kubernetes.io/instance too; they must select the pods.
  const json* dep = Find(chart, "Deployment", "redis-fleet");
  ASSERT_NE(dep, nullptr);
  const json& pod_labels = (*dep)["spec"]["template"]["metadata"]["labels"];
  for (const auto& [k, v] : (*cs)["spec"]["selector"].items()) EXPECT_EQ(pod_labels[k], v) << k;
  for (const auto& [k, v] : (*cm)["spec"]["selector"]["matchLabels"].items()) {
    EXPECT_EQ((*cs)["metadata"]["labels"][k], v) << k;
  }
}

TEST(HelmChart, ServiceMonitorAndDashboardCanBeTurnedOff) {
  std::set<std::string> all = Ids(Render());
  std::set<std::string> no_sm = Ids(Render({{"serviceMonitor.enabled", "false"}}));
  EXPECT_EQ(no_sm.count("ServiceMonitor redis-fleet/redis-fleet"), 0u);
  all.erase("ServiceMonitor redis-fleet/redis-fleet");
  EXPECT_EQ(no_sm, all);
  std::set<std::string> no_dash = Ids(Render({{"grafanaDashboard.enabled", "false"}}));
  EXPECT_EQ(no_dash.count("ConfigMap redis-fleet/redis-fleet-dashboard"), 0u);
}

std::vector<std::string> Args(const std::vector<json>& objs, const std::string& name = "redis-fleet") {
  const json* d = Find(objs, "Deployment", name);
  if (d == nullptr) return {};
  return (*d)["spec"]["template"]["spec"]["containers"][0]["args"].get<std::vector<std::string>>();
}

TEST(HelmChart, ValuesReachTheOperatorFlags) {
  const std::vector<json> objs =
      Render({{"watchNamespace", "team-a"}, {"kube.qps", "50"}, {"kube.burst", "100"},
              {"leaderElection.enabled", "false"}, {"replicas", "1"}, {"logFormat", "text"},
              {"image.tag", "0.2.0"}});
  const std::vector<std::string> want = {"run",           "--kubernetes",  "--watch-namespace=team-a",
                                         "--kube-qps=50", "--kube-burst=100", "--leader-elect=false",
                                         "--metrics-addr=:9090", "--health-addr=:8081",
                                         "--log-format=text"};
  EXPECT_EQ(Args(objs), want);
  const json* d = Find(objs, "Deployment", "redis-fleet");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ((*d)["spec"]["replicas"], 1);
  EXPECT_EQ((*d)["spec"]["template"]["spec"]["containers"][0]["image"], "redis-fleet/operator:0.2.0");
  // Without leader election there is no Lease to guard.
  EXPECT_EQ(Find(objs, "Role", "redis-fleet-leader-election"), nullptr);
  EXPECT_EQ(Find(objs, "RoleBinding", "redis-fleet-leader-election"), nullptr);
}

TEST(HelmChart, SelfServiceAddsItsFlagsServiceAndTheRightToCreateInstances) {
  auto has_create_rule = [](const std::vector<json>& objs) {
    const json* role = Find(objs, "ClusterRole", "redis-fleet");
    if (role == nullptr) return false;
    for (const json& rule : (*role)["rules"]) {
      if (rule["resources"] == json::array({"redisinstances"}) && rule["verbs"] == json::array({"create", "delete"}))
        return true;
    }
    return false;
  };
  const std::vector<json> off = Render();
  EXPECT_EQ(Find(off, "Service", "redis-fleet-self-service"), nullptr);
  EXPECT_FALSE(has_create_rule(off)) << "least privilege: no create without self-service";

  const std::vector<json> on = Render({{"selfService.enabled", "true"}, {"selfService.pool", "shared"},
                                       {"selfService.namespace", "apps"}, {"selfService.publicHost", "redis.example.com"}});
  const std::vector<std::string> args = Args(on);
  for (const char* want : {"--self-service-addr=:8080", "--self-service-pool=shared",
                                  "--self-service-namespace=apps", "--self-service-public-host=redis.example.com"}) {
    EXPECT_NE(std::find(args.begin(), args.end(), want), args.end()) << want;
  }
  const json* svc = Find(on, "Service", "redis-fleet-self-service");
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ((*svc)["spec"]["ports"][0]["targetPort"], "self-service");
  EXPECT_EQ((*svc)["spec"]["ports"][0]["port"], 8080);
  EXPECT_TRUE(has_create_rule(on));
}

TEST(HelmChart, OtherReleaseNameAndNamespace) {
  auto chart = ChartRenderer::Load(ChartDir());
  ASSERT_TRUE(chart.ok()) << chart.error().ToString();
  auto rendered = chart->RenderAll({"fleet", "ops"});
  ASSERT_TRUE(rendered.ok()) << rendered.error().ToString();
  auto docs = ParseDocuments(*rendered);
  ASSERT_TRUE(docs.ok()) << docs.error().ToString();
  std::vector<json> objs;
  for (const auto& d : *docs) objs.push_back(ToJson(d));
  const json* binding = Find(objs, "ClusterRoleBinding", "fleet");
  ASSERT_NE(binding, nullptr);
  EXPECT_EQ((*binding)["roleRef"]["name"], "fleet");
  EXPECT_EQ((*binding)["subjects"][0]["namespace"], "ops");
  EXPECT_EQ((*binding)["subjects"][0]["name"], "fleet");
  const std::vector<std::string> args = Args(objs, "fleet");
  EXPECT_NE(std::find(args.begin(), args.end(), "--leader-election-namespace=ops"), args.end());
  for (const json& o : objs) {
    if (o["kind"] != "ClusterRole" && o["kind"] != "ClusterRoleBinding") {
      EXPECT_EQ(o["metadata"].value("namespace", ""), "ops") << Id(o);
    }
  }
}

TEST(HelmChart, NotesRender) {
  auto chart = ChartRenderer::Load(ChartDir());
  ASSERT_TRUE(chart.ok()) << chart.error().ToString();
  auto notes = chart->RenderFile("NOTES.txt");
  ASSERT_TRUE(notes.ok()) << notes.error().ToString();
  EXPECT_NE(notes->find("kubectl -n redis-fleet get deployment redis-fleet"), std::string::npos) << *notes;
  EXPECT_EQ(notes->find("tokenSecretRef"), std::string::npos);
  ASSERT_TRUE(chart->Set("credentials.digitaloceanTokenSecret", "do-token").ok());
  ASSERT_TRUE(chart->Set("selfService.enabled", "true").ok());
  notes = chart->RenderFile("NOTES.txt");
  ASSERT_TRUE(notes.ok()) << notes.error().ToString();
  EXPECT_NE(notes->find("tokenSecretRef: {name: do-token, key: token}"), std::string::npos) << *notes;
  EXPECT_NE(notes->find("port-forward svc/redis-fleet-self-service 8080"), std::string::npos) << *notes;
}

TEST(HelmChart, ChartCrdsAreTheRepositoryCrds) {
  std::set<std::string> repo, chart;
  for (const auto& e : fs::directory_iterator(SourceDir() + "/crds")) repo.insert(e.path().filename());
  for (const auto& e : fs::directory_iterator(ChartDir() + "/crds")) chart.insert(e.path().filename());
  EXPECT_EQ(chart, repo) << "copy crds/*.yaml to helm/redis-fleet/crds/";
  for (const std::string& f : repo) {
    EXPECT_TRUE(Slurp(SourceDir() + "/crds/" + f) == Slurp(ChartDir() + "/crds/" + f))
        << "helm/redis-fleet/crds/" << f << " differs from crds/" << f << ": cp crds/" << f
        << " helm/redis-fleet/crds/";
  }
}

// ---- dashboard -----------------------------------------------------------------------------

// Metrics the dashboard may name before they exist, with the issue that adds them (none at present).
const std::map<std::string, std::string> kPlannedMetrics = {};
// Series Prometheus itself adds to every scrape target.
const std::set<std::string> kScrapeMetrics = {"up"};

// Files that register metric families: the library's and the operator's own (controller/main.cpp
// registers the cloud-API and pool-cost families).
const std::vector<std::string> kMetricSources = {"src/metrics/metrics.cpp", "src/redis/collector.cpp",
                                                 "src/notify/notifier.cpp", "controller/main.cpp"};

// Names registered in kMetricSources as `prometheus::BuildGauge()<newline> .Name("...")`;
// histograms also expose _bucket, _sum and _count.
std::set<std::string> RegisteredMetrics(const std::string& src) {
  static const std::regex kBuild(R"(Build(Counter|Gauge|Histogram|Summary)\(\)\s*\.Name\(\"([a-z0-9_]+)\"\))");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(src.begin(), src.end(), kBuild); it != std::sregex_iterator(); ++it) {
    const std::string type = (*it)[1], name = (*it)[2];
    out.insert(name);
    if (type == "Histogram" || type == "Summary") {
      out.insert(name + "_sum");
      out.insert(name + "_count");
      if (type == "Histogram") out.insert(name + "_bucket");
    }
  }
  return out;
}

std::set<std::string> RegisteredMetrics() {
  std::string src;
  for (const std::string& f : kMetricSources) src += Slurp(SourceDir() + "/" + f);
  return RegisteredMetrics(src);
}

// Metric names in a PromQL expression: identifiers left after removing strings, label matchers,
// range selectors, grouping clauses, function calls, keywords and numbers.
std::set<std::string> MetricNames(std::string expr) {
  expr = std::regex_replace(expr, std::regex(R"("([^"\\]|\\.)*")"), " ");
  expr = std::regex_replace(expr, std::regex(R"(\{[^}]*\})"), " ");
  expr = std::regex_replace(expr, std::regex(R"(\[[^\]]*\])"), " ");
  expr = std::regex_replace(
      expr, std::regex(R"(\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\))"), " ");
  expr = std::regex_replace(expr, std::regex(R"(\b[a-zA-Z_][a-zA-Z0-9_]*\s*\()"), " (");
  static const std::set<std::string> kKeywords = {"and", "or", "unless", "offset", "bool", "by",
                                                  "without", "on", "ignoring", "inf", "nan"};
  std::set<std::string> out;
  static const std::regex kIdent(R"([a-zA-Z_:][a-zA-Z0-9_:]*)");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), kIdent); it != std::sregex_iterator(); ++it) {
    const std::string id = it->str();
    const auto pos = static_cast<size_t>(it->position());
    if (pos > 0 && (std::isdigit(static_cast<unsigned char>(expr[pos - 1])) || expr[pos - 1] == '.')) {
      continue;  // 1e3, 0.95
    }
    if (!kKeywords.count(id)) out.insert(id);
  }
  return out;
}

void CollectPanels(const json& panels, std::vector<json>& out) {
  for (const json& p : panels) {
    out.push_back(p);
    if (p.contains("panels")) CollectPanels(p["panels"], out);
  }
}

TEST(HelmChart, MetricNameExtraction) {
  EXPECT_EQ(MetricNames(R"(histogram_quantile(0.95, sum by (controller, le) (rate(a_bucket{job=~"$job"}[$__rate_interval]))))"),
            std::set<std::string>{"a_bucket"});
  EXPECT_EQ(MetricNames("x / y{a=\"b\"} > 1e3"), (std::set<std::string>{"x", "y"}));
  EXPECT_EQ(MetricNames("sum(up)"), std::set<std::string>{"up"});
}

TEST(HelmChart, RegisteredMetricsFollowsMultiLineBuilderChains) {
  const std::set<std::string> got = RegisteredMetrics(R"(
  auto& a = prometheus::BuildCounter()
                .Name("x_total")
                .Help("...")
                .Register(r);
  auto& b = prometheus::BuildHistogram().Name("y_seconds").Register(r);
  auto& c = BuildGauge()  .Name("z"))");
  EXPECT_EQ(got, (std::set<std::string>{"x_total", "y_seconds", "y_seconds_bucket", "y_seconds_sum",
                                        "y_seconds_count", "z"}));
  // controller/main.cpp is scanned: its families are known.
  const std::set<std::string> all = RegisteredMetrics();
  for (const char* name : {"redisfleet_api_requests_total", "redisfleet_api_ratelimit_remaining",
                           "redisfleet_pool_monthly_cost_dollars"}) {
    EXPECT_TRUE(all.count(name)) << name << " not found in controller/main.cpp";
  }
}

TEST(HelmChart, DashboardQueriesNameKnownMetrics) {
  const std::string text = Slurp(ChartDir() + "/dashboards/redis-fleet.json");
  json dash;
  ASSERT_NO_THROW(dash = json::parse(text));
  // The datasource is the ${DS_PROMETHEUS} variable.
  bool has_ds_var = false;
  for (const json& v : dash["templating"]["list"]) {
    if (v.value("name", "") == "DS_PROMETHEUS" && v.value("type", "") == "datasource") has_ds_var = true;
  }
  EXPECT_TRUE(has_ds_var);

  const std::set<std::string> registered = RegisteredMetrics();
  ASSERT_TRUE(registered.count("redisfleet_reconcile_errors_total")) << "metrics.cpp parse failed";
  std::vector<json> panels;
  CollectPanels(dash["panels"], panels);
  std::set<std::string> used;
  int queries = 0;
  for (const json& p : panels) {
    if (p.value("type", "") == "row") continue;
    const std::string title = p.value("title", "?");
    EXPECT_EQ(p["datasource"].value("uid", ""), "${DS_PROMETHEUS}") << title;
    ASSERT_TRUE(p.contains("targets") && !p["targets"].empty()) << title;
    for (const json& t : p["targets"]) {
      const std::string expr = t.value("expr", "");
      ASSERT_FALSE(expr.empty()) << title;
      ++queries;
      const std::set<std::string> names = MetricNames(expr);
      EXPECT_FALSE(names.empty()) << title << ": " << expr;
      for (const std::string& n : names) {
        used.insert(n);
        const bool planned = kPlannedMetrics.count(n) > 0;
        EXPECT_TRUE(registered.count(n) || planned || kScrapeMetrics.count(n))
            << title << ": " << n << " is neither registered (kMetricSources) nor planned";
        if (planned) {
          EXPECT_NE(p.value("description", "").find(n), std::string::npos)
              << title << ": say in the description that " << n << " is planned ("
              << kPlannedMetrics.at(n) << ")";
        }
      }
    }
  }
  EXPECT_GE(queries, 8);
  for (const char* required :
       {"up", "redisfleet_reconcile_errors_total", "redisfleet_reconcile_duration_seconds_bucket",
        "redisfleet_workqueue_depth", "redisfleet_instances", "redisfleet_redis_used_memory_bytes",
        "redisfleet_redis_maxmemory_bytes", "redisfleet_scaling_decisions_total", "redisfleet_hosts",
        "redisfleet_api_ratelimit_remaining", "redisfleet_api_requests_total",
        "redisfleet_pool_monthly_cost_dollars"}) {
    EXPECT_TRUE(used.count(required)) << "no panel queries " << required;
  }
  // A planned metric that now exists should move out of kPlannedMetrics.
  for (const auto& [n, issue] : kPlannedMetrics) {
    EXPECT_FALSE(registered.count(n)) << n << " exists now: drop it from kPlannedMetrics";
  }
}

TEST(HelmChart, DashboardConfigMapHoldsTheDashboard) {
  const std::vector<json> objs = Render();
  const json* cm = Find(objs, "ConfigMap", "redis-fleet-dashboard");
  ASSERT_NE(cm, nullptr);
  EXPECT_EQ((*cm)["metadata"]["labels"]["grafana_dashboard"], "1");
  ASSERT_TRUE((*cm)["data"]["redis-fleet.json"].is_string());
  EXPECT_EQ(json::parse((*cm)["data"]["redis-fleet.json"].get<std::string>()),
            json::parse(Slurp(ChartDir() + "/dashboards/redis-fleet.json")));
}

}  // namespace
}  // namespace redisfleet::helmtest
