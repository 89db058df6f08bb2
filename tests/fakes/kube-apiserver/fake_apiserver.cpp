#include "fake_apiserver.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include "fakes/common/listen_addr.h"

namespace redisfleet::fakes {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::system_clock;

std::string FormatTime(Clock::time_point t) {
  const std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<Clock::time_point> ParseTime(const std::string& s) {
  std::tm tm{};
  if (strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return std::nullopt;
  return Clock::from_time_t(timegm(&tm));
}

// kubectl's duration.HumanDuration.
std::string HumanAge(std::chrono::seconds d) {
  long s = std::max<long>(0, d.count());
  if (s < 120) return fmt::format("{}s", s);
  long m = s / 60;
  if (m < 10) return s % 60 == 0 ? fmt::format("{}m", m) : fmt::format("{}m{}s", m, s % 60);
  if (m < 180) return fmt::format("{}m", m);
  long h = m / 60;
  if (h < 8) return m % 60 == 0 ? fmt::format("{}h", h) : fmt::format("{}h{}m", h, m % 60);
  if (h < 48) return fmt::format("{}h", h);
  long days = h / 24;
  if (h < 24 * 8)
    return h % 24 == 0 ? fmt::format("{}d", days) : fmt::format("{}d{}h", days, h % 24);
  return fmt::format("{}d", days);
}

std::string Base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v =
        (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += k[v >> 18 & 63];
    out += k[v >> 12 & 63];
    out += k[v >> 6 & 63];
    out += k[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16;
    out += k[v >> 18 & 63];
    out += k[v >> 12 & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += k[v >> 18 & 63];
    out += k[v >> 12 & 63];
    out += k[v >> 6 & 63];
    out += '=';
  }
  return out;
}

json StatusBody(int code, const std::string& reason, const std::string& message,
                json details = nullptr) {
  json s = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
            {"status", "Failure"}, {"message", message}, {"reason", reason},
            {"code", code}};
  if (!details.is_null()) s["details"] = std::move(details);
  return s;
}

json Details(const ResourceType& t, const std::string& name, const std::string& kind) {
  json d = {{"name", name}, {"kind", kind}};
  if (!t.group.empty()) d["group"] = t.group;
  return d;
}

// YAML (yaml-cpp node) to JSON; plain scalars typed by look, quoted ones stay strings.
json YamlToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& c : n) a.push_back(YamlToJson(c));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return o;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = n.Scalar();
      if (n.Tag() == "!") return s;
      if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) return nullptr;
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
      static const std::regex kInt(R"([-+]?[0-9]+)");
      static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
      if (std::regex_match(s, kInt)) {
        try {
          return std::stoll(s);
        } catch (...) {
          return s;
        }
      }
      if (std::regex_match(s, kFloat)) {
        try {
          return std::stod(s);
        } catch (...) {
          return s;
        }
      }
      return s;
    }
  }
  return nullptr;
}

std::string JsonTypeName(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

std::string Join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return fmt::format("{}.{}", path, key);
}

struct FieldError {
  std::string reason;  // FieldValueInvalid, ...
  std::string field;
  std::string detail;  // "Invalid value: ...": ErrorBody
};

struct SchemaCtx {
  std::vector<FieldError> errors;
  std::vector<std::string> unknown;  // field paths
};

std::string NumberText(const json& v) { return v.dump(); }

// Validates, prunes unknown fields and applies defaults, like a structural schema.
void Validate(const json& s, json& v, const std::string& path, bool root, SchemaCtx& ctx) {
  if (!s.is_object()) return;
  const std::string type = s.value("type", "");
  const bool int_or_string = s.value("x-kubernetes-int-or-string", false);
  if (int_or_string) {
    if (!v.is_number_integer() && !v.is_string()) {
      ctx.errors.push_back({"FieldValueTypeInvalid", path,
                            fmt::format("Invalid value: \"{}\": {} in body must be of type "
                                        "int-or-string: \"{}\"",
                                        JsonTypeName(v), path, JsonTypeName(v))});
      return;
    }
  } else if (!type.empty()) {
    bool ok = (type == "object" && v.is_object()) || (type == "array" && v.is_array()) ||
              (type == "string" && v.is_string()) || (type == "integer" && v.is_number_integer()) ||
              (type == "number" && v.is_number()) || (type == "boolean" && v.is_boolean());
    if (!ok) {
      ctx.errors.push_back({"FieldValueTypeInvalid", path,
                            fmt::format("Invalid value: \"{}\": {} in body must be of type {}: "
                                        "\"{}\"",
                                        JsonTypeName(v), path, type, JsonTypeName(v))});
      return;
    }
  }
  if (s.contains("enum") && s["enum"].is_array()) {
    bool found =
        std::any_of(s["enum"].begin(), s["enum"].end(), [&](const json& e) { return e == v; });
    if (!found) {
      std::string supported;
      for (const auto& e : s["enum"]) {
        if (!supported.empty()) supported += ", ";
        supported += e.dump();
      }
      ctx.errors.push_back(
          {"FieldValueNotSupported", path,
           fmt::format("Unsupported value: {}: supported values: {}", v.dump(), supported)});
    }
  }
  if (v.is_number()) {
    const double x = v.get<double>();
    if (s.contains("minimum") && s["minimum"].is_number()) {
      const double m = s["minimum"].get<double>();
      const bool excl = s.value("exclusiveMinimum", false);
      if (excl ? !(x > m) : !(x >= m)) {
        ctx.errors.push_back({"FieldValueInvalid", path,
                              fmt::format("Invalid value: {}: {} in body should be greater than "
                                          "{}{}",
                                          NumberText(v), path, excl ? "" : "or equal to ",
                                          NumberText(s["minimum"]))});
      }
    }
    if (s.contains("maximum") && s["maximum"].is_number()) {
      const double m = s["maximum"].get<double>();
      const bool excl = s.value("exclusiveMaximum", false);
      if (excl ? !(x < m) : !(x <= m)) {
        ctx.errors.push_back({"FieldValueInvalid", path,
                              fmt::format("Invalid value: {}: {} in body should be less than "
                                          "{}{}",
                                          NumberText(v), path, excl ? "" : "or equal to ",
                                          NumberText(s["maximum"]))});
      }
    }
  }
  if (v.is_string()) {
    const auto& str = v.get_ref<const std::string&>();
    if (s.contains("minLength") && str.size() < s["minLength"].get<std::size_t>()) {
      ctx.errors.push_back({"FieldValueInvalid", path,
                            fmt::format("Invalid value: {}: {} in body should be at least {} "
                                        "chars long",
                                        v.dump(), path, s["minLength"].dump())});
    }
    if (s.contains("maxLength") && str.size() > s["maxLength"].get<std::size_t>()) {
      ctx.errors.push_back(
          {"FieldValueTooLong", path,
           fmt::format("Too long: may not be longer than {}", s["maxLength"].dump())});
    }
    if (s.contains("pattern") && s["pattern"].is_string()) {
      try {
        std::regex re(s["pattern"].get<std::string>(), std::regex::ECMAScript);
        if (!std::regex_search(str, re)) {
          ctx.errors.push_back({"FieldValueInvalid", path,
                                fmt::format("Invalid value: {}: {} in body should match '{}'",
                                            v.dump(), path, s["pattern"].get<std::string>())});
        }
      } catch (const std::regex_error&) {
      }
    }
  }
  if (v.is_array()) {
    if (s.contains("minItems") && v.size() < s["minItems"].get<std::size_t>()) {
      ctx.errors.push_back({"FieldValueInvalid", path,
                            fmt::format("Invalid value: {}: {} in body should have at least {} "
                                        "items",
                                        v.size(), path, s["minItems"].dump())});
    }
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<std::size_t>()) {
      ctx.errors.push_back({"FieldValueTooMany", path,
                            fmt::format("Too many: {}: must have at most {} items", v.size(),
                                        s["maxItems"].dump())});
    }
    if (s.contains("items")) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        Validate(s["items"], v[i], fmt::format("{}[{}]", path, i), false, ctx);
      }
    }
  }
  if (v.is_object()) {
    const json props = s.value("properties", json::object());
    const bool preserve = s.value("x-kubernetes-preserve-unknown-fields", false);
    const json* additional =
        s.contains("additionalProperties") && s["additionalProperties"].is_object()
            ? &s["additionalProperties"]
            : nullptr;
    // Defaults for absent fields.
    for (auto it = props.begin(); it != props.end(); ++it) {
      if (!v.contains(it.key()) && it.value().is_object() && it.value().contains("default")) {
        v[it.key()] = it.value()["default"];
      }
    }
    // The root schema may constrain metadata.name (and only that); metadata is never pruned.
    if (root && props.contains("metadata") && v.contains("metadata") && v["metadata"].is_object() &&
        v["metadata"].contains("name")) {
      const json name_schema =
          props["metadata"].value("properties", json::object()).value("name", json());
      Validate(name_schema, v["metadata"]["name"], "metadata.name", false, ctx);
    }
    std::vector<std::string> drop;
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string& key = it.key();
      if (root && (key == "apiVersion" || key == "kind" || key == "metadata")) continue;
      const std::string child = Join(path, key);
      const json* cs = props.contains(key) ? &props[key] : additional;
      if (cs == nullptr) {
        if (!preserve) {
          ctx.unknown.push_back(child);
          drop.push_back(key);
        }
        continue;
      }
      if (it.value().is_null()) {
        if (!cs->value("nullable", false)) drop.push_back(key);
        continue;
      }
      Validate(*cs, it.value(), child, false, ctx);
    }
    for (const auto& k : drop) v.erase(k);
    if (s.contains("required") && s["required"].is_array()) {
      for (const auto& r : s["required"]) {
        if (r.is_string() && !v.contains(r.get<std::string>())) {
          ctx.errors.push_back(
              {"FieldValueRequired", Join(path, r.get<std::string>()), "Required value"});
        }
      }
    }
  }
}

// 299 warning as the API server writes it: the text quoted, with " and \ escaped.
std::string WarningHeader(const std::string& text) {
  std::string out = "299 - \"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

json InvalidStatus(const std::string& qualified_kind, const std::string& name,
                   const ResourceType& t, const std::string& details_kind,
                   const std::vector<FieldError>& errors) {
  std::vector<std::string> parts;
  json causes = json::array();
  for (const auto& e : errors) {
    parts.push_back(fmt::format("{}: {}", e.field, e.detail));
    causes.push_back({{"reason", e.reason}, {"message", e.detail}, {"field", e.field}});
  }
  std::string joined;
  if (parts.size() == 1) {
    joined = parts[0];
  } else {
    joined = "[";
    for (std::size_t i = 0; i < parts.size(); ++i) joined += (i ? ", " : "") + parts[i];
    joined += "]";
  }
  json d = Details(t, name, details_kind);
  d["causes"] = causes;
  return StatusBody(422, "Invalid",
                    fmt::format("{} \"{}\" is invalid: {}", qualified_kind, name, joined), d);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string Trim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  return s;
}

// fieldSelector (metadata.name, metadata.namespace) and labelSelector (=, ==, !=, key, !key).
struct Selector {
  struct Req {
    std::string key, op, value;
  };
  std::vector<Req> fields, labels;

  static std::vector<Req> Parse(const std::string& text) {
    std::vector<Req> out;
    if (text.empty()) return out;
    for (auto part : Split(text, ',')) {
      part = Trim(part);
      if (part.empty()) continue;
      for (const char* op : {"!=", "==", "="}) {
        auto pos = part.find(op);
        if (pos != std::string::npos) {
          out.push_back({Trim(part.substr(0, pos)), op[0] == '!' ? "!=" : "=",
                         Trim(part.substr(pos + std::string(op).size()))});
          goto next;
        }
      }
      if (part[0] == '!') {
        out.push_back({Trim(part.substr(1)), "!exists", ""});
      } else {
        out.push_back({part, "exists", ""});
      }
    next:;
    }
    return out;
  }

  bool Matches(const json& obj) const {
    const json md = obj.value("metadata", json::object());
    for (const auto& r : fields) {
      std::string v;
      if (r.key == "metadata.name")
        v = md.value("name", "");
      else if (r.key == "metadata.namespace")
        v = md.value("namespace", "");
      else
        continue;
      if ((r.op == "=") != (v == r.value)) return false;
    }
    const json lbls = md.value("labels", json::object());
    for (const auto& r : labels) {
      const bool has = lbls.contains(r.key) && lbls[r.key].is_string();
      const std::string v = has ? lbls[r.key].get<std::string>() : "";
      if (r.op == "exists" && !has) return false;
      if (r.op == "!exists" && has) return false;
      if (r.op == "=" && (!has || v != r.value)) return false;
      if (r.op == "!=" && has && v == r.value) return false;
    }
    return true;
  }
};

Selector SelectorFor(const httplib::Request& req) {
  Selector s;
  s.fields = Selector::Parse(req.get_param_value("fieldSelector"));
  s.labels = Selector::Parse(req.get_param_value("labelSelector"));
  return s;
}

bool IsTrueParam(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return false;
  const std::string v = req.get_param_value(name);
  return !(v.empty() || v == "0" || v == "false");
}

json WithoutMetaAndStatus(json o, bool drop_status) {
  if (!o.is_object()) return o;
  o.erase("metadata");
  if (drop_status) o.erase("status");
  return o;
}

json EvalJsonPath(const json& obj, const std::string& path) {
  const json* cur = &obj;
  for (const auto& part : Split(path, '.')) {
    if (part.empty()) continue;
    if (!cur->is_object() || !cur->contains(part)) return nullptr;
    cur = &(*cur)[part];
  }
  return *cur;
}

}  // namespace

FakeKubeApiServer::FakeKubeApiServer() : FakeKubeApiServer(Options{}) {}

FakeKubeApiServer::FakeKubeApiServer(Options options) : options_(options) {
  auto builtin = [this](std::string group, std::string plural, std::string singular,
                        std::string kind, std::vector<std::string> short_names) {
    ResourceType t;
    t.group = std::move(group);
    t.version = "v1";
    t.plural = std::move(plural);
    t.singular = std::move(singular);
    t.kind = std::move(kind);
    t.short_names = std::move(short_names);
    RegisterType(std::move(t));
  };
  builtin("", "secrets", "secret", "Secret", {});
  builtin("", "events", "event", "Event", {"ev"});
  builtin("events.k8s.io", "events", "event", "Event", {"ev"});
  builtin("coordination.k8s.io", "leases", "lease", "Lease", {});
}

FakeKubeApiServer::~FakeKubeApiServer() { Stop(); }

void FakeKubeApiServer::RegisterType(ResourceType t) {
  for (auto& existing : types_) {
    if (existing.group == t.group && existing.version == t.version && existing.plural == t.plural) {
      existing = std::move(t);
      return;
    }
  }
  types_.push_back(std::move(t));
}

Status FakeKubeApiServer::AddCrd(const json& crd) {
  if (started_) return FailedPreconditionError("AddCrd after Start");
  if (!crd.is_object() || crd.value("kind", "") != "CustomResourceDefinition") {
    return InvalidArgumentError("not a CustomResourceDefinition");
  }
  const json spec = crd.value("spec", json::object());
  const json names = spec.value("names", json::object());
  ResourceType base;
  base.group = spec.value("group", "");
  base.plural = names.value("plural", "");
  base.kind = names.value("kind", "");
  base.singular = names.value("singular", "");
  if (base.singular.empty()) {
    base.singular = base.kind;
    std::transform(base.singular.begin(), base.singular.end(), base.singular.begin(), ::tolower);
  }
  if (names.contains("shortNames") && names["shortNames"].is_array()) {
    for (const auto& s : names["shortNames"]) base.short_names.push_back(s.get<std::string>());
  }
  base.namespaced = spec.value("scope", "Namespaced") == "Namespaced";
  base.custom = true;
  if (base.group.empty() || base.plural.empty() || base.kind.empty() ||
      !spec.contains("versions") || !spec["versions"].is_array()) {
    return InvalidArgumentError("CRD needs spec.group, spec.names.plural/kind and spec.versions");
  }
  for (const auto& v : spec["versions"]) {
    if (!v.value("served", true)) continue;
    ResourceType t = base;
    t.version = v.value("name", "");
    if (t.version.empty()) return InvalidArgumentError("CRD version without a name");
    t.status_subresource = v.contains("subresources") && v["subresources"].is_object() &&
                           v["subresources"].contains("status");
    if (v.contains("schema") && v["schema"].is_object()) {
      t.schema = v["schema"].value("openAPIV3Schema", json());
    }
    if (v.contains("additionalPrinterColumns") && v["additionalPrinterColumns"].is_array()) {
      t.printer_columns = v["additionalPrinterColumns"];
    }
    RegisterType(std::move(t));
  }
  return Status::Ok();
}

Status FakeKubeApiServer::LoadCrdsFromDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return InvalidArgumentError("not a directory: " + dir);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(ss.str());
    } catch (const std::exception& e) {
      return InvalidArgumentError(fmt::format("{}: {}", f.string(), e.what()));
    }
    for (const auto& d : docs) {
      json j;
      try {
        j = YamlToJson(d);
      } catch (const std::exception& e) {
        return InvalidArgumentError(fmt::format("{}: {}", f.string(), e.what()));
      }
      if (!j.is_object() || j.value("kind", "") != "CustomResourceDefinition") continue;
      Status s = AddCrd(j);
      if (!s.ok()) return InvalidArgumentError(fmt::format("{}: {}", f.string(), s.message()));
    }
  }
  return Status::Ok();
}

std::string FakeKubeApiServer::url() const { return fmt::format("http://127.0.0.1:{}", port()); }

Status FakeKubeApiServer::Start(const std::string& addr) {
  if (started_.exchange(true)) return FailedPreconditionError("already started");
  RF_ASSIGN_OR_RETURN(auto listen, ParseListenAddr(addr));
  const auto& [host, want] = listen;
  const std::size_t workers = options_.worker_threads;
  server_.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  server_.set_keep_alive_timeout(5);
  InstallRoutes();
  int bound =
      want == 0 ? server_.bind_to_any_port(host) : (server_.bind_to_port(host, want) ? want : -1);
  if (bound <= 0) return UnavailableError("cannot bind " + addr);
  port_ = bound;
  listener_ = std::thread([this] { server_.listen_after_bind(); });
  return Status::Ok();
}

void FakeKubeApiServer::Stop() {
  if (!started_ || stopping_.exchange(true)) return;
  {
    std::lock_guard lk(mu_);
    ++cut_epoch_;
  }
  cv_.notify_all();
  server_.stop();
  if (listener_.joinable()) listener_.join();
}

void FakeKubeApiServer::CutWatches() {
  {
    std::lock_guard lk(mu_);
    ++cut_epoch_;
  }
  cv_.notify_all();
}

void FakeKubeApiServer::FailNextRequests(int n, int code) {
  fail_code_ = code;
  fail_next_ = n;
}

void FakeKubeApiServer::SetLatency(std::chrono::milliseconds d) { latency_ms_ = d.count(); }

std::uint64_t FakeKubeApiServer::CurrentResourceVersion() const {
  std::lock_guard lk(mu_);
  return rv_;
}

std::optional<json> FakeKubeApiServer::GetObject(const std::string& group,
                                                 const std::string& plural, const std::string& ns,
                                                 const std::string& name) const {
  std::lock_guard lk(mu_);
  auto s = objects_.find(group + "/" + plural);
  if (s == objects_.end()) return std::nullopt;
  auto o = s->second.find(ns + "/" + name);
  if (o == s->second.end()) return std::nullopt;
  return o->second;
}

const ResourceType* FakeKubeApiServer::FindType(const std::string& group,
                                                const std::string& version,
                                                const std::string& plural) const {
  for (const auto& t : types_) {
    if (t.group == group && t.version == version && t.plural == plural) return &t;
  }
  return nullptr;
}

void FakeKubeApiServer::InstallRoutes() {
  server_.Post("/fake/cut-watches", [this](const httplib::Request&, httplib::Response& res) {
    CutWatches();
    res.set_content("{}", "application/json");
  });
  server_.Post("/fake/fail-next", [this](const httplib::Request& req, httplib::Response& res) {
    int code = req.has_param("code") ? std::atoi(req.get_param_value("code").c_str()) : 500;
    FailNextRequests(std::atoi(req.get_param_value("n").c_str()), code);
    res.set_content("{}", "application/json");
  });
  server_.Post("/fake/latency", [this](const httplib::Request& req, httplib::Response& res) {
    SetLatency(std::chrono::milliseconds(std::atol(req.get_param_value("ms").c_str())));
    res.set_content("{}", "application/json");
  });
  server_.Get("/fake/stats", [this](const httplib::Request&, httplib::Response& res) {
    json j = {{"requests", RequestCount()},
              {"openWatches", OpenWatches()},
              {"resourceVersion", CurrentResourceVersion()}};
    res.set_content(j.dump(), "application/json");
  });
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); };
  server_.Get(R"(/.*)", handler);
  server_.Post(R"(/.*)", handler);
  server_.Put(R"(/.*)", handler);
  server_.Patch(R"(/.*)", handler);
  server_.Delete(R"(/.*)", handler);
}

void FakeKubeApiServer::Handle(const httplib::Request& req, httplib::Response& res) {
  requests_++;
  if (const long ms = latency_ms_.load(); ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
  auto send = [&](int code, const json& body) {
    res.status = code;
    res.set_content(body.dump(), "application/json");
  };
  for (int n = fail_next_.load(); n > 0;) {
    if (fail_next_.compare_exchange_weak(n, n - 1)) {
      const int code = fail_code_.load();
      send(code, StatusBody(code, code == 500 ? "InternalError" : "ServiceUnavailable",
                            "injected failure"));
      return;
    }
  }
  if (HandleDiscovery(req, res)) return;

  // /api/v1/... or /apis/G/V/...
  std::vector<std::string> seg;
  for (auto& s : Split(req.path, '/')) {
    if (!s.empty()) seg.push_back(s);
  }
  std::string group, version;
  std::size_t i = 0;
  if (seg.size() >= 2 && seg[0] == "api") {
    version = seg[1];
    i = 2;
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    group = seg[1];
    version = seg[2];
    i = 3;
  }
  std::string ns, plural, name, sub;
  if (i > 0 && seg.size() > i) {
    if (seg[i] == "namespaces" && seg.size() >= i + 3) {
      ns = seg[i + 1];
      plural = seg[i + 2];
      if (seg.size() > i + 3) name = seg[i + 3];
      if (seg.size() > i + 4) sub = seg[i + 4];
      if (seg.size() > i + 5) plural.clear();
    } else if (seg.size() <= i + 2) {
      plural = seg[i];
      if (seg.size() > i + 1) name = seg[i + 1];
    }
  }
  const ResourceType* t = plural.empty() ? nullptr : FindType(group, version, plural);
  if (t == nullptr || (t->namespaced && !name.empty() && ns.empty()) ||
      (!sub.empty() && (sub != "status" || !t->status_subresource))) {
    send(404, StatusBody(404, "NotFound", "the server could not find the requested resource",
                         json::object()));
    return;
  }
  if (req.method == "GET" && name.empty() && IsTrueParam(req, "watch")) {
    HandleWatch(req, res, *t, ns);
    return;
  }
  const std::string accept = req.get_header_value("Accept");
  const bool table = accept.find("as=Table") != std::string::npos;
  Reply r = HandleResource(req, *t, ns, name, sub, table);
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  send(r.code, r.body);
}

bool FakeKubeApiServer::HandleDiscovery(const httplib::Request& req, httplib::Response& res) {
  if (req.method != "GET") return false;
  const std::string& p = req.path;
  auto send = [&](const json& j) { res.set_content(j.dump(), "application/json"); };
  auto resource_list = [&](const std::string& group, const std::string& version) {
    json resources = json::array();
    for (const auto& t : types_) {
      if (t.group != group || t.version != version) continue;
      resources.push_back(
          {{"name", t.plural},
           {"singularName", t.singular},
           {"namespaced", t.namespaced},
           {"kind", t.kind},
           {"verbs",
            {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}},
           {"shortNames", t.short_names}});
      if (t.status_subresource) {
        resources.push_back({{"name", t.plural + "/status"},
                             {"singularName", ""},
                             {"namespaced", t.namespaced},
                             {"kind", t.kind},
                             {"verbs", {"get", "patch", "update"}}});
      }
    }
    return resources;
  };
  if (p == "/api") {
    send({{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs",
           {{{"clientCIDR", "0.0.0.0/0"},
             {"serverAddress", fmt::format("127.0.0.1:{}", port())}}}}});
    return true;
  }
  if (p == "/api/v1") {
    send({{"kind", "APIResourceList"},
          {"groupVersion", "v1"},
          {"resources", resource_list("", "v1")}});
    return true;
  }
  // Ordered groups with their versions in registration order.
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  for (const auto& t : types_) {
    if (t.group.empty()) continue;
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return g.first == t.group; });
    if (it == groups.end()) {
      groups.push_back({t.group, {t.version}});
    } else if (std::find(it->second.begin(), it->second.end(), t.version) == it->second.end()) {
      it->second.push_back(t.version);
    }
  }
  if (p == "/apis") {
    json list = json::array();
    for (const auto& [g, versions] : groups) {
      json vs = json::array();
      for (const auto& v : versions) vs.push_back({{"groupVersion", g + "/" + v}, {"version", v}});
      list.push_back({{"name", g}, {"versions", vs}, {"preferredVersion", vs[0]}});
    }
    send({{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", list}});
    return true;
  }
  auto seg = Split(p, '/');  // "", "apis", G, V
  if (seg.size() == 4 && seg[1] == "apis") {
    for (const auto& [g, versions] : groups) {
      if (g == seg[2] && std::find(versions.begin(), versions.end(), seg[3]) != versions.end()) {
        send({{"kind", "APIResourceList"},
              {"apiVersion", "v1"},
              {"groupVersion", g + "/" + seg[3]},
              {"resources", resource_list(g, seg[3])}});
        return true;
      }
    }
    return false;
  }
  // OpenAPI v3: an index plus, per group-version, PATCH operations carrying the GVK and a
  // fieldValidation parameter, so kubectl relies on server-side validation.
  auto gv_doc = [&](const std::string& group, const std::string& version) {
    json paths = json::object();
    json schemas = json::object();
    for (const auto& t : types_) {
      if (t.group != group || t.version != version) continue;
      const std::string prefix =
          group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
      const std::string item =
          prefix + (t.namespaced ? "/namespaces/{namespace}/" : "/") + t.plural + "/{name}";
      json gvk = {{"group", group}, {"version", version}, {"kind", t.kind}};
      json op = {{"operationId", "patch" + t.kind},
                 {"x-kubernetes-action", "patch"},
                 {"x-kubernetes-group-version-kind", gvk},
                 {"parameters",
                  {{{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
                   {{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
                   {{"name", "dryRun"}, {"in", "query"}, {"schema", {{"type", "string"}}}}}},
                 {"requestBody",
                  {{"content",
                    {{"application/json-patch+json", {{"schema", json::object()}}},
                     {"application/merge-patch+json", {{"schema", json::object()}}}}}}},
                 {"responses", {{"200", {{"description", "OK"}}}}}};
      paths[item] = {{"patch", op}};
      json s = t.schema.is_object() ? t.schema : json{{"type", "object"}};
      s["x-kubernetes-group-version-kind"] = json::array({gvk});
      schemas[(group.empty() ? "io.k8s.api.core." : group + ".") + version + "." + t.kind] = s;
    }
    return json{{"openapi", "3.0.0"},
                {"info", {{"title", "Kubernetes"}, {"version", "fake"}}},
                {"paths", paths},
                {"components", {{"schemas", schemas}}}};
  };
  if (p == "/openapi/v3") {
    json paths = json::object();
    paths["api/v1"] = {
        {"serverRelativeURL", fmt::format("/openapi/v3/api/v1?hash={:X}",
                                          std::hash<std::string>{}(gv_doc("", "v1").dump()))}};
    for (const auto& [g, versions] : groups) {
      for (const auto& v : versions) {
        paths["apis/" + g + "/" + v] = {
            {"serverRelativeURL", fmt::format("/openapi/v3/apis/{}/{}?hash={:X}", g, v,
                                              std::hash<std::string>{}(gv_doc(g, v).dump()))}};
      }
    }
    send({{"paths", paths}});
    return true;
  }
  if (p == "/openapi/v3/api/v1") {
    send(gv_doc("", "v1"));
    return true;
  }
  if (seg.size() == 6 && seg[1] == "openapi" && seg[2] == "v3" && seg[3] == "apis") {
    for (const auto& [g, versions] : groups) {
      if (g == seg[4] && std::find(versions.begin(), versions.end(), seg[5]) != versions.end()) {
        send(gv_doc(g, seg[5]));
        return true;
      }
    }
  }
  return false;
}

json FakeKubeApiServer::Out(const ResourceType& t, json obj) const {
  obj["apiVersion"] = t.GroupVersion();
  obj["kind"] = t.kind;
  return obj;
}

FakeKubeApiServer::Reply FakeKubeApiServer::HandleResource(
    const httplib::Request& req, const ResourceType& t, const std::string& ns,
    const std::string& name, const std::string& sub, bool accept_table) {
  const std::string& m = req.method;
  if (name.empty()) {
    if (m == "GET") return List(req, t, ns, accept_table);
    if (m == "POST" && (!ns.empty() || !t.namespaced)) return Create(req, t, ns);
    return {405, StatusBody(405, "MethodNotAllowed",
                            "the server does not allow this method on the requested resource")};
  }
  if (m == "GET") {
    std::lock_guard lk(mu_);
    auto& store = objects_[t.group + "/" + t.plural];
    auto it = store.find(ns + "/" + name);
    if (it == store.end()) {
      return {404,
              StatusBody(404, "NotFound", fmt::format("{} \"{}\" not found", t.Resource(), name),
                         Details(t, name, t.plural))};
    }
    if (accept_table) return {200, Table(t, {it->second})};
    return {200, Out(t, it->second)};
  }
  if (m == "PUT") return Update(req, t, ns, name, sub, false);
  if (m == "PATCH") return Update(req, t, ns, name, sub, true);
  if (m == "DELETE") return Delete(t, ns, name);
  return {405, StatusBody(405, "MethodNotAllowed",
                          "the server does not allow this method on the requested resource")};
}

json FakeKubeApiServer::Table(const ResourceType& t, const std::vector<json>& objs) const {
  json cols = json::array();
  cols.push_back({{"name", "Name"},
                  {"type", "string"},
                  {"format", "name"},
                  {"description", "Name must be unique within a namespace."},
                  {"priority", 0}});
  json printer = t.printer_columns;
  if (printer.empty()) {
    printer.push_back(
        {{"name", "Age"}, {"type", "date"}, {"jsonPath", ".metadata.creationTimestamp"}});
  }
  for (const auto& c : printer) {
    cols.push_back({{"name", c.value("name", "")},
                    {"type", c.value("type", "string")},
                    {"format", c.value("format", "")},
                    {"description", c.value("description", "")},
                    {"priority", c.value("priority", 0)}});
  }
  const auto now = Clock::now();
  json rows = json::array();
  for (const auto& o : objs) {
    const json md = o.value("metadata", json::object());
    json cells = json::array({md.value("name", "")});
    for (const auto& c : printer) {
      json v = EvalJsonPath(o, c.value("jsonPath", ""));
      if (c.value("type", "") == "date" && v.is_string()) {
        auto tp = ParseTime(v.get<std::string>());
        v = tp ? json(HumanAge(std::chrono::duration_cast<std::chrono::seconds>(now - *tp)))
               : json("<unknown>");
      }
      cells.push_back(v);
    }
    json pm = {{"name", md.value("name", "")}};
    for (const char* k : {"namespace", "uid", "resourceVersion", "creationTimestamp"}) {
      if (md.contains(k)) pm[k] = md[k];
    }
    rows.push_back({{"cells", cells},
                    {"object",
                     {{"kind", "PartialObjectMetadata"},
                      {"apiVersion", "meta.k8s.io/v1"},
                      {"metadata", pm}}}});
  }
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", {{"resourceVersion", std::to_string(rv_)}}},
          {"columnDefinitions", cols},
          {"rows", rows}};
}

FakeKubeApiServer::Reply FakeKubeApiServer::List(const httplib::Request& req, const ResourceType& t,
                                                 const std::string& ns, bool table) {
  const Selector sel = SelectorFor(req);
  std::lock_guard lk(mu_);
  std::vector<json> items;
  for (const auto& [key, obj] : objects_[t.group + "/" + t.plural]) {
    if (!ns.empty() && obj["metadata"].value("namespace", "") != ns) continue;
    if (!sel.Matches(obj)) continue;
    items.push_back(Out(t, obj));
  }
  if (table) return {200, Table(t, items)};
  return {200,
          {{"apiVersion", t.GroupVersion()},
           {"kind", t.kind + "List"},
           {"metadata", {{"resourceVersion", std::to_string(rv_)}, {"continue", ""}}},
           {"items", items}}};
}

std::optional<FakeKubeApiServer::Reply> FakeKubeApiServer::CheckSchema(
    const httplib::Request& req, const ResourceType& t, json& obj,
    std::vector<std::string>& warnings) {
  if (!t.schema.is_object()) return std::nullopt;
  SchemaCtx ctx;
  Validate(t.schema, obj, "", true, ctx);
  const std::string fv = req.get_param_value("fieldValidation");
  if (!ctx.unknown.empty()) {
    if (fv == "Strict") {
      std::string msg;
      for (const auto& u : ctx.unknown) {
        msg += (msg.empty() ? "" : ", ") + fmt::format("unknown field \"{}\"", u);
      }
      return Reply{400, StatusBody(400, "BadRequest",
                                   fmt::format("{} in version \"{}\" cannot be handled as a {}: "
                                               "strict decoding error: {}",
                                               t.kind, t.version, t.kind, msg))};
    }
    if (fv != "Ignore") {
      for (const auto& u : ctx.unknown) warnings.push_back(fmt::format("unknown field \"{}\"", u));
    }
  }
  if (!ctx.errors.empty()) {
    const std::string name = obj["metadata"].value("name", "");
    return Reply{422, InvalidStatus(t.kind + "." + t.group, name, t, t.kind, ctx.errors)};
  }
  return std::nullopt;
}

json FakeKubeApiServer::Commit(const ResourceType& t, const std::string& key, json obj,
                               const std::string& type) {
  ++rv_;
  obj["metadata"]["resourceVersion"] = std::to_string(rv_);
  obj = Out(t, std::move(obj));
  auto& store = objects_[t.group + "/" + t.plural];
  if (type == "DELETED") {
    store.erase(key);
  } else {
    store[key] = obj;
  }
  history_.push_back({rv_, t.group + "/" + t.plural, type, obj});
  while (history_.size() > options_.history_limit) {
    compacted_rv_ = history_.front().rv;
    history_.pop_front();
  }
  cv_.notify_all();
  return obj;
}

namespace {

void ApplySecretStringData(const ResourceType& t, json& obj) {
  if (!t.group.empty() || t.plural != "secrets" || !obj.contains("stringData")) return;
  if (obj["stringData"].is_object()) {
    for (auto it = obj["stringData"].begin(); it != obj["stringData"].end(); ++it) {
      if (it.value().is_string()) obj["data"][it.key()] = Base64(it.value().get<std::string>());
    }
  }
  obj.erase("stringData");
}

}  // namespace

FakeKubeApiServer::Reply FakeKubeApiServer::Create(const httplib::Request& req,
                                                   const ResourceType& t, const std::string& ns) {
  json obj = json::parse(req.body, nullptr, false);
  if (obj.is_discarded() || !obj.is_object()) {
    return {400, StatusBody(400, "BadRequest", "the body of the request could not be decoded")};
  }
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
  json& md = obj["metadata"];
  if (t.namespaced) {
    if (md.contains("namespace") && md["namespace"] != ns) {
      return {400, StatusBody(400, "BadRequest",
                              "the namespace of the provided object does not match the "
                              "namespace sent on the request")};
    }
    md["namespace"] = ns;
  }
  std::lock_guard lk(mu_);
  if (md.value("name", "").empty() && !md.value("generateName", "").empty()) {
    md["name"] =
        md.value("generateName", "") + fmt::format("{:05x}", (++uid_counter_ * 7919) % 0xfffff);
  }
  const std::string name = md.value("name", "");
  if (name.empty()) {
    return {422, InvalidStatus(t.kind + (t.group.empty() ? "" : "." + t.group), "", t, t.kind,
                               {{"FieldValueRequired", "metadata.name",
                                 "Required value: name or generateName is required"}})};
  }
  const std::string key = (t.namespaced ? ns : "") + "/" + name;
  auto& store = objects_[t.group + "/" + t.plural];
  if (store.count(key)) {
    return {409, StatusBody(409, "AlreadyExists",
                            fmt::format("{} \"{}\" already exists", t.Resource(), name),
                            Details(t, name, t.plural))};
  }
  if (t.status_subresource) obj.erase("status");
  std::vector<std::string> warnings;
  if (auto r = CheckSchema(req, t, obj, warnings)) return *r;
  ApplySecretStringData(t, obj);
  json& m = obj["metadata"];
  m.erase("resourceVersion");
  m.erase("deletionTimestamp");
  m.erase("deletionGracePeriodSeconds");
  m["uid"] = fmt::format("00000000-0000-4000-8000-{:012x}", ++uid_counter_);
  m["creationTimestamp"] = FormatTime(Clock::now());
  if (t.custom) m["generation"] = 1;
  Reply r{201, json()};
  for (const auto& w : warnings) r.headers.push_back({"Warning", WarningHeader(w)});
  if (req.has_param("dryRun")) {
    r.body = Out(t, obj);
    return r;
  }
  r.body = Commit(t, key, std::move(obj), "ADDED");
  return r;
}

FakeKubeApiServer::Reply FakeKubeApiServer::Update(const httplib::Request& req,
                                                   const ResourceType& t, const std::string& ns,
                                                   const std::string& name, const std::string& sub,
                                                   bool patch) {
  const std::string key = (t.namespaced ? ns : "") + "/" + name;
  std::lock_guard lk(mu_);
  auto& store = objects_[t.group + "/" + t.plural];
  auto it = store.find(key);
  if (it == store.end()) {
    return {404, StatusBody(404, "NotFound", fmt::format("{} \"{}\" not found", t.Resource(), name),
                            Details(t, name, t.plural))};
  }
  const json old = it->second;
  const std::string old_rv = old["metadata"].value("resourceVersion", "");
  auto conflict = [&] {
    return Reply{409, StatusBody(409, "Conflict",
                                 fmt::format("Operation cannot be fulfilled on {} \"{}\": the "
                                             "object has been modified; please apply your "
                                             "changes to the latest version and try again",
                                             t.Resource(), name),
                                 Details(t, name, t.plural))};
  };
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    return {400, StatusBody(400, "BadRequest", "the body of the request could not be decoded")};
  }
  json next;
  if (patch) {
    std::string ct = req.get_header_value("Content-Type");
    ct = ct.substr(0, ct.find(';'));
    const bool strategic = ct == "application/strategic-merge-patch+json";
    if (ct == "application/merge-patch+json" || (strategic && !t.custom)) {
      next = old;
      next.merge_patch(body);
    } else if (ct == "application/json-patch+json") {
      try {
        next = old.patch(body);
      } catch (const std::exception& e) {
        return {422,
                StatusBody(422, "Invalid",
                           std::string(
                               "the server rejected our request due to an error in our request: ") +
                               e.what())};
      }
    } else {
      return {415, StatusBody(415, "UnsupportedMediaType",
                              "the body of the request was in an unknown format - accepted media "
                              "types include: application/json-patch+json, "
                              "application/merge-patch+json, application/apply-patch+yaml")};
    }
    if (!next.is_object()) {
      return {400, StatusBody(400, "BadRequest", "the patched object is not an object")};
    }
    if (!next.contains("metadata") || !next["metadata"].is_object())
      next["metadata"] = json::object();
    if (next["metadata"].value("resourceVersion", "") != old_rv) return conflict();
  } else {
    if (!body.is_object()) {
      return {400, StatusBody(400, "BadRequest", "the body of the request could not be decoded")};
    }
    next = body;
    if (!next.contains("metadata") || !next["metadata"].is_object())
      next["metadata"] = json::object();
    const std::string rv = next["metadata"].value("resourceVersion", "");
    if (rv.empty() && t.custom) {
      return {422, InvalidStatus(t.Resource(), name, t, t.plural,
                                 {{"FieldValueInvalid", "metadata.resourceVersion",
                                   "Invalid value: 0x0: must be specified for an update"}})};
    }
    if (!rv.empty() && rv != old_rv) return conflict();
  }
  const std::string body_name = next["metadata"].value("name", name);
  if (body_name != name) {
    return {400, StatusBody(400, "BadRequest",
                            fmt::format("the name of the object ({}) does not match the name on "
                                        "the URL ({})",
                                        body_name, name))};
  }
  if (sub == "status") {
    json only = old;
    if (next.contains("status")) {
      only["status"] = next["status"];
    } else {
      only.erase("status");
    }
    next = std::move(only);
  } else if (t.status_subresource) {
    if (old.contains("status")) {
      next["status"] = old["status"];
    } else {
      next.erase("status");
    }
  }
  // Server-owned metadata.
  json& md = next["metadata"];
  const json& omd = old["metadata"];
  for (const char* k : {"uid", "creationTimestamp", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "namespace", "generation", "name"}) {
    if (omd.contains(k)) {
      md[k] = omd[k];
    } else {
      md.erase(k);
    }
  }
  md["resourceVersion"] = old_rv;
  const bool deleting = omd.contains("deletionTimestamp");
  if (deleting) {
    std::set<std::string> had;
    for (const auto& f : omd.value("finalizers", json::array())) had.insert(f.dump());
    json added = json::array();
    for (const auto& f : md.value("finalizers", json::array())) {
      if (!had.count(f.dump())) added.push_back(f);
    }
    if (!added.empty()) {
      return {422, InvalidStatus(t.kind + (t.group.empty() ? "" : "." + t.group), name, t, t.kind,
                                 {{"FieldValueForbidden", "metadata.finalizers",
                                   "Forbidden: no new finalizers can be added if the object is "
                                   "being deleted, found new finalizers " +
                                       added.dump()}})};
    }
  }
  std::vector<std::string> warnings;
  if (auto r = CheckSchema(req, t, next, warnings)) return *r;
  ApplySecretStringData(t, next);
  if (t.custom && WithoutMetaAndStatus(next, t.status_subresource) !=
                      WithoutMetaAndStatus(old, t.status_subresource)) {
    md["generation"] = omd.value("generation", 0) + 1;
  }
  Reply r{200, json()};
  for (const auto& w : warnings) r.headers.push_back({"Warning", WarningHeader(w)});
  if (deleting && (!md.contains("finalizers") || md["finalizers"].empty())) {
    r.body = Commit(t, key, std::move(next), "DELETED");
    return r;
  }
  if (Out(t, next) == Out(t, old)) {
    r.body = Out(t, old);
    return r;
  }
  if (req.has_param("dryRun")) {
    r.body = Out(t, next);
    return r;
  }
  r.body = Commit(t, key, std::move(next), "MODIFIED");
  return r;
}

FakeKubeApiServer::Reply FakeKubeApiServer::Delete(const ResourceType& t, const std::string& ns,
                                                   const std::string& name) {
  const std::string key = (t.namespaced ? ns : "") + "/" + name;
  std::lock_guard lk(mu_);
  auto& store = objects_[t.group + "/" + t.plural];
  auto it = store.find(key);
  if (it == store.end()) {
    return {404, StatusBody(404, "NotFound", fmt::format("{} \"{}\" not found", t.Resource(), name),
                            Details(t, name, t.plural))};
  }
  json obj = it->second;
  json& md = obj["metadata"];
  if (md.contains("finalizers") && md["finalizers"].is_array() && !md["finalizers"].empty()) {
    if (md.contains("deletionTimestamp")) return {200, Out(t, obj)};
    md["deletionTimestamp"] = FormatTime(Clock::now());
    md["deletionGracePeriodSeconds"] = 0;
    if (md.value("generation", 0) > 0) md["generation"] = md.value("generation", 0) + 1;
    return {200, Commit(t, key, std::move(obj), "MODIFIED")};
  }
  const std::string uid = md.value("uid", "");
  Commit(t, key, std::move(obj), "DELETED");
  json d = Details(t, name, t.plural);
  d["uid"] = uid;
  return {200,
          {{"kind", "Status"},
           {"apiVersion", "v1"},
           {"metadata", json::object()},
           {"status", "Success"},
           {"details", d}}};
}

void FakeKubeApiServer::HandleWatch(const httplib::Request& req, httplib::Response& res,
                                    const ResourceType& t, const std::string& ns) {
  struct WatchState {
    std::uint64_t cursor = 0;
    std::uint64_t epoch = 0;
    std::string pending;  // initial events
    bool bookmarks = false;
    bool ended = false;
    Clock::time_point deadline;
    Clock::time_point next_bookmark;
  };
  auto st = std::make_shared<WatchState>();
  const Selector sel = SelectorFor(req);
  const std::string store_key = t.group + "/" + t.plural;
  auto matches = [sel, ns](const json& obj) {
    if (!ns.empty() && obj["metadata"].value("namespace", "") != ns) return false;
    return sel.Matches(obj);
  };
  const std::string rv_param = req.get_param_value("resourceVersion");
  long timeout_s = 1800;
  if (req.has_param("timeoutSeconds")) {
    const long asked = std::atol(req.get_param_value("timeoutSeconds").c_str());
    if (asked > 0) timeout_s = asked;  // 0 or junk: the server's default
  }
  st->bookmarks = IsTrueParam(req, "allowWatchBookmarks");
  st->deadline = Clock::now() + std::chrono::seconds(timeout_s);
  st->next_bookmark = Clock::now() + options_.bookmark_interval;
  auto expired = [](std::uint64_t want, std::uint64_t oldest) {
    return json{{"type", "ERROR"},
                {"object",
                 StatusBody(410, "Expired",
                            fmt::format("too old resource version: {} ({})", want, oldest))}}
               .dump() +
           "\n";
  };
  {
    std::lock_guard lk(mu_);
    st->epoch = cut_epoch_;
    if (!rv_param.empty() && rv_param != "0") {
      std::uint64_t want = 0;
      try {
        want = std::stoull(rv_param);
      } catch (...) {
        res.status = 400;
        res.set_content(StatusBody(400, "BadRequest", "invalid resourceVersion").dump(),
                        "application/json");
        return;
      }
      if (want < compacted_rv_) {
        res.set_content(expired(want, compacted_rv_), "application/json");
        return;
      }
      st->cursor = want;
    } else {
      for (const auto& [key, obj] : objects_[store_key]) {
        if (matches(obj)) st->pending += json{{"type", "ADDED"}, {"object", obj}}.dump() + "\n";
      }
      st->cursor = rv_;
    }
  }
  open_watches_++;
  res.set_header("Cache-Control", "no-cache, private");
  // cpp-httplib gzips a plain "application/json" body for clients that accept it, buffering
  // the stream; with a parameter it leaves the events alone and they go out as they happen.
  res.set_chunked_content_provider(
      "application/json;stream=watch",
      [this, st, t, store_key, matches, expired](std::size_t, httplib::DataSink& sink) {
        std::string out;
        bool done = false;
        {
          std::unique_lock lk(mu_);
          if (stopping_ || cut_epoch_ != st->epoch) return false;  // abrupt end, like a cut
          if (!st->pending.empty()) {
            out.swap(st->pending);
          } else if (st->cursor < compacted_rv_) {
            out = expired(st->cursor, compacted_rv_);
            done = true;
          } else {
            auto first =
                std::upper_bound(history_.begin(), history_.end(), st->cursor,
                                 [](std::uint64_t rv, const Event& e) { return rv < e.rv; });
            for (auto e = first; e != history_.end(); ++e) {
              if (e->store_key == store_key && matches(e->object)) {
                out += json{{"type", e->type}, {"object", e->object}}.dump() + "\n";
              }
              st->cursor = e->rv;
            }
            const auto now = Clock::now();
            if (out.empty() && st->bookmarks && now >= st->next_bookmark) {
              st->cursor = std::max(st->cursor, rv_);
              json bm = {{"kind", t.kind},
                         {"apiVersion", t.GroupVersion()},
                         {"metadata",
                          {{"resourceVersion", std::to_string(st->cursor)},
                           {"creationTimestamp", nullptr}}}};
              out = json{{"type", "BOOKMARK"}, {"object", bm}}.dump() + "\n";
            }
            if (!out.empty() && st->bookmarks) st->next_bookmark = now + options_.bookmark_interval;
            if (out.empty()) {
              if (now >= st->deadline) {
                done = true;
              } else {
                auto wake = std::min(st->deadline, now + std::chrono::milliseconds(200));
                if (st->bookmarks) wake = std::min(wake, st->next_bookmark);
                cv_.wait_until(lk, wake);
                lk.unlock();
                return sink.is_writable();
              }
            }
          }
        }
        if (!out.empty() && !sink.write(out.data(), out.size())) return false;
        if (done) sink.done();
        return true;
      },
      [this](bool) { open_watches_--; });
}

}  // namespace redisfleet::fakes
