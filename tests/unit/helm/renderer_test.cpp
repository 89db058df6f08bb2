// The renderer itself: the subset renders as Helm would, and everything else fails loudly.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "unit/helm/chart_renderer.h"

namespace redisfleet::helmtest {
namespace {

std::string ChartDir() {
  if (const char* env = std::getenv("REDISFLEET_SOURCE_DIR")) return std::string(env) + "/helm/redis-fleet";
  return std::string(REDISFLEET_HELM_SOURCE_DIR) + "/helm/redis-fleet";
}

class Renderer : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = ChartRenderer::Load(ChartDir());
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    chart_.emplace(std::move(*c));
  }
  StatusOr<std::string> Render(const std::string& text) {
    return chart_->RenderText("test.yaml", text, {"rel", "ns"});
  }
  std::optional<ChartRenderer> chart_;
};

TEST_F(Renderer, SubstitutesValuesReleaseAndChart) {
  auto r = Render("a: {{ .Values.replicas }} {{ .Release.Name }} {{ .Release.Namespace }} {{ .Chart.Name }}-{{ .Chart.Version }}");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(*r, "a: 2 rel ns redis-fleet-0.1.0");
}

TEST_F(Renderer, TrimsWhitespaceLikeGoTemplates) {
  auto r = Render("a:\n  {{- if .Values.serviceMonitor.enabled }}\n  - x\n  {{- end }}\nb: {{ .Values.logFormat -}}   \n  c");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(*r, "a:\n  - x\nb: jsonc");
}

TEST_F(Renderer, IfElseFollowsHelmTruthiness) {
  ASSERT_TRUE(chart_->Set("watchNamespace", "\"\"").ok());
  auto r = Render("{{ if .Values.watchNamespace }}yes{{ else }}no{{ end }}|{{ if .Values.resources }}map{{ end }}");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(*r, "no|map");
  ASSERT_TRUE(chart_->Set("replicas", "0").ok());
  r = Render("{{ if .Values.replicas }}yes{{ else }}no{{ end }}");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(*r, "no");
}

TEST_F(Renderer, PipelinesQuoteIndentNindentToYaml) {
  auto r = Render("{{ .Values.image.tag | quote }}|{{ include \"redis-fleet.selectorLabels\" . | indent 2 }}");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(*r, "\"0.1.0\"|  app.kubernetes.io/name: redis-fleet\n  app.kubernetes.io/instance: rel");
  r = Render("x:{{ toYaml .Values.resources.limits | nindent 2 }}");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(*r, "x:\n  cpu: \"1\"\n  memory: 256Mi");
  r = Render("{{ .Values.resources.requests | toYaml }}");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(*r, "cpu: 50m\nmemory: 64Mi");
}

TEST_F(Renderer, FilesGetReadsChartFiles) {
  auto r = Render("{{ .Files.Get \"Chart.yaml\" }}");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_NE(r->find("name: redis-fleet"), std::string::npos);
  EXPECT_FALSE(Render("{{ .Files.Get \"../README.md\" }}").ok());
  EXPECT_FALSE(Render("{{ .Files.Get \"nope.json\" }}").ok());
}

TEST_F(Renderer, RejectsEverythingOutsideTheSubset) {
  for (const char* bad : {
           "{{ range .Values.resources }}x{{ end }}",
           "{{ with .Values.image }}{{ .tag }}{{ end }}",
           "{{ .Values.image.tag | default \"latest\" }}",
           "{{ default \"x\" .Values.image.tag }}",
           "{{ printf \"%s\" .Values.image.tag }}",
           "{{ $x := .Values.image.tag }}",
           "{{ .Values.image.tag | upper }}",
           "{{ .Values.image.tag | trunc 63 }}",
           "{{ template \"redis-fleet.name\" . }}",
           "{{ include \"redis-fleet.name\" .Values }}",
           "{{ include \"no-such-helper\" . }}",
           "{{ /* comment */ }}",
           "{{/* comment */}}",
           "{{ .Values.noSuchKey }}",
           "{{ .Values.image.noSuchKey }}",
           "{{ .Values.resources }}",
           "{{ .Capabilities.KubeVersion }}",
           "{{ .Release.Revision }}",
           "{{ if not .Values.serviceMonitor.enabled }}x{{ end }}",
           "{{ if eq .Values.logFormat \"json\" }}x{{ end }}",
           "{{ if .Values.serviceMonitor.enabled }}x",
           "{{ else if .Values.x }}",
           "x{{ end }}",
           "{{ .Values.image.tag | nindent }}",
           "{{ (.Values.image.tag) }}",
           "{{ .Values.image.tag ",
       }) {
    auto r = Render(bad);
    EXPECT_FALSE(r.ok()) << bad << " rendered as: " << (r.ok() ? *r : "");
  }
}

TEST_F(Renderer, EveryChartTemplateRenders) {
  for (const std::string& name : chart_->TemplateNames()) {
    auto r = chart_->RenderFile(name);
    EXPECT_TRUE(r.ok()) << name << ": " << r.error().ToString();
  }
}

}  // namespace
}  // namespace redisfleet::helmtest
