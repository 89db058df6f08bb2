#pragma once

// A deliberately tiny Helm template renderer for the subset helm/redis-fleet/ may use (helm itself
// cannot be installed here). Anything outside the subset is an error naming the file and the
// construct, so a template that would need real Helm to render fails the test instead of being
// silently mis-rendered.
//
// The subset, inside {{ }} (with optional {{- / -}} whitespace trimming):
//   .Values.a.b  .Release.Name|Namespace|Service  .Chart.Name|Version|AppVersion
//   include "name" .          toYaml .Values.x          .Files.Get "path"
//   ... | quote    ... | indent N    ... | nindent N    ... | toYaml
//   if <value> / else / end   define "name" / end (templates/_*.tpl)
// Printing a missing value, a map or a list is an error too.

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace redisfleet::helmtest {

struct Release {
  std::string name = "redis-fleet";
  std::string namespace_ = "redis-fleet";
};

class ChartRenderer {
 public:
  // Reads Chart.yaml, values.yaml and every file in templates/ of `chart_dir`.
  static StatusOr<ChartRenderer> Load(const std::string& chart_dir);

  // Overrides one value, like `helm --set a.b=v` (v parsed as YAML: false, 50, text).
  Status Set(const std::string& dotted_path, const std::string& yaml_value);

  // Renders one template file (a name under templates/, e.g. "deployment.yaml").
  StatusOr<std::string> RenderFile(const std::string& name, const Release& release = {}) const;
  // Renders every manifest template (not _*.tpl, not NOTES.txt) and joins them with "---".
  StatusOr<std::string> RenderAll(const Release& release = {}) const;
  // Renders a template given as text (for the renderer's own tests); `defines` from the chart apply.
  StatusOr<std::string> RenderText(const std::string& source_name, const std::string& text,
                                   const Release& release = {}) const;

  // Template files in templates/, sorted.
  std::vector<std::string> TemplateNames() const;

  const YAML::Node& values() const { return values_; }

 private:
  ChartRenderer() = default;

  std::string dir_;
  YAML::Node chart_;
  YAML::Node values_;
  std::map<std::string, std::string> templates_;  // name -> text
};

// Parses rendered output into its non-empty YAML documents; a parse error names the document.
StatusOr<std::vector<YAML::Node>> ParseDocuments(const std::string& rendered);

}  // namespace redisfleet::helmtest
