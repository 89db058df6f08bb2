# Named helpers. Keep to the subset tests/unit/helm/ renders: value and release substitutions,
# include, if/else/end, quote, indent/nindent, toYaml, .Files.Get.

{{- define "redis-fleet.name" -}}
{{ .Chart.Name }}
{{- end }}

{{- define "redis-fleet.fullname" -}}
{{ .Release.Name }}
{{- end }}

{{- define "redis-fleet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "redis-fleet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "redis-fleet.labels" -}}
{{ include "redis-fleet.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}
