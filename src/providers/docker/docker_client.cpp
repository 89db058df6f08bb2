#include "providers/docker/docker_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <utility>

#include <nlohmann/json.hpp>

namespace redisfleet::docker {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxErrorText = 300;

// Percent-encodes everything outside RFC 3986 unreserved characters and `keep`.
std::string Escape(std::string_view s, std::string_view keep = "") {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string CollapseWhitespace(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() > kMaxErrorText) out = out.substr(0, kMaxErrorText) + "...";
  return out;
}

// The readable text of an HTML page: its <title>, else its text without tags.
std::string HtmlText(std::string_view html) {
  std::string lower(html);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::size_t open = lower.find("<title>");
  std::size_t close = lower.find("</title>");
  if (open != std::string::npos && close != std::string::npos && close > open) {
    return CollapseWhitespace(html.substr(open + 7, close - open - 7));
  }
  std::string text;
  bool in_tag = false;
  for (char c : html) {
    if (c == '<') {
      in_tag = true;
      text += ' ';
    } else if (c == '>') {
      in_tag = false;
    } else if (!in_tag) {
      text += c;
    }
  }
  return CollapseWhitespace(text);
}

std::vector<std::string> StringList(const json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> StringMap(const json& j) {
  std::map<std::string, std::string> out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

bool Bool(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

const json& Obj(const json& j, const char* key) {
  static const json kEmpty = json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

std::string StripSlash(std::string s) {
  if (!s.empty() && s.front() == '/') s.erase(0, 1);
  return s;
}

std::map<std::string, std::vector<PortBinding>> PortMap(const json& j) {
  std::map<std::string, std::vector<PortBinding>> out;
  if (!j.is_object()) return out;
  for (const auto& [port, bindings] : j.items()) {
    auto& list = out[port];
    if (!bindings.is_array()) continue;
    for (const auto& b : bindings) {
      if (b.is_object()) list.push_back({Str(b, "HostIp"), Str(b, "HostPort")});
    }
  }
  return out;
}

// Parses `body` as JSON and applies `fn`; InternalError (naming `what`) when it is not the
// expected shape. nlohmann exceptions stop here.
template <typename T, typename Fn>
StatusOr<T> ParseJson(std::string_view what, const std::string& body, Fn fn) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return InternalError(std::string(what) + ": response is not JSON");
  try {
    return fn(j);
  } catch (const std::exception& e) {
    return InternalError(std::string(what) + ": unexpected response shape: " + e.what());
  }
}

// Frames of a non-TTY log stream: [stream, 0, 0, 0, size (4 bytes, big-endian)] + payload.
std::string Demultiplex(const std::string& raw) {
  auto looks_framed = [&](std::size_t at) {
    return at + 8 <= raw.size() && static_cast<unsigned char>(raw[at]) <= 2 && raw[at + 1] == 0 &&
           raw[at + 2] == 0 && raw[at + 3] == 0;
  };
  if (!looks_framed(0)) return raw;
  std::string out;
  std::size_t at = 0;
  while (looks_framed(at)) {
    uint32_t size = 0;
    for (int i = 4; i < 8; ++i) size = (size << 8) | static_cast<unsigned char>(raw[at + i]);
    at += 8;
    out.append(raw, at, std::min<std::size_t>(size, raw.size() - at));
    at += size;
  }
  return out;
}

bool IsTlsEndpoint(const DockerClientOptions& o) {
  return !o.ca_file.empty() || !o.cert_file.empty() || !o.key_file.empty();
}

}  // namespace

int CompareApiVersions(std::string_view a, std::string_view b) {
  auto next = [](std::string_view& s) {
    std::size_t dot = s.find('.');
    std::string_view part = s.substr(0, dot);
    s = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
    int v = 0;
    std::from_chars(part.data(), part.data() + part.size(), v);
    return v;
  };
  while (!a.empty() || !b.empty()) {
    int x = next(a);
    int y = next(b);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

StatusOr<http::HttpClientOptions> HttpOptionsFor(const DockerClientOptions& o) {
  http::HttpClientOptions h;
  std::string_view ep = o.endpoint;
  if (ep.starts_with("unix://")) {
    if (ep.size() <= 7 || ep[7] != '/') {
      return InvalidArgumentError("docker endpoint " + o.endpoint + ": want unix:///absolute/path");
    }
    h.base_url = std::string(ep);
  } else if (!ep.empty() && ep.front() == '/') {
    h.base_url = "unix://" + std::string(ep);
  } else if (ep.starts_with("tcp://")) {
    h.base_url = (IsTlsEndpoint(o) ? "https://" : "http://") + std::string(ep.substr(6));
  } else if (ep.starts_with("http://") || ep.starts_with("https://")) {
    h.base_url = std::string(ep);
  } else {
    return InvalidArgumentError("docker endpoint " + o.endpoint +
                                ": want unix:///path, tcp://host:port, http:// or https://");
  }
  h.ca_file = o.ca_file;
  h.cert_file = o.cert_file;
  h.key_file = o.key_file;
  h.basic_auth = o.basic_auth;
  h.connect_timeout = o.connect_timeout;
  return h;
}

StatusOr<std::unique_ptr<DockerClient>> DockerClient::Create(const DockerClientOptions& options) {
  RF_ASSIGN_OR_RETURN(http::HttpClientOptions h, HttpOptionsFor(options));
  auto http = std::make_unique<http::HttpClient>(std::move(h));
  std::string endpoint = http->display_base();
  return std::unique_ptr<DockerClient>(
      new DockerClient(std::move(endpoint), std::move(http), options.request_timeout));
}

DockerClient::DockerClient(std::string endpoint, std::unique_ptr<http::HttpClient> http,
                           std::chrono::milliseconds request_timeout)
    : endpoint_(std::move(endpoint)), http_(std::move(http)), request_timeout_(request_timeout) {}

Status DockerClient::ErrorFromResponse(std::string_view what, const http::HttpResponse& r) {
  std::string text;
  const std::string type = r.Header("content-type");
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("message") && j["message"].is_string()) {
    text = CollapseWhitespace(j["message"].get<std::string>());
  } else if (type.find("html") != std::string::npos || r.body.find('<') != std::string::npos) {
    text = HtmlText(r.body);
  } else {
    text = CollapseWhitespace(r.body);
  }
  if (r.status == 401) {
    // dockerd has no HTTP auth: a 401 comes from a proxy in front of it.
    text = "unauthorized by the proxy in front of the Docker daemon; check the basic-auth "
           "credentials" + (text.empty() ? std::string() : " (" + text + ")");
  }
  if (text.empty()) text = "empty response body";
  std::string message = fmt::format("docker {}: {} (HTTP {})", what, text, r.status);
  Status s = http::HttpClient::StatusFromHttp(r.status, "");
  return Status(s.ok() ? StatusCode::kInternal : s.code(), std::move(message));
}

StatusOr<http::HttpResponse> DockerClient::Raw(const std::string& method, const std::string& path,
                                               const std::string& json_body) {
  http::HttpRequest req;
  req.method = method;
  req.path_and_query = path;
  req.timeout = request_timeout_;
  if (!json_body.empty()) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = json_body;
  }
  return http_->Do(req);
}

StatusOr<PingResult> DockerClient::Ping() {
  RF_ASSIGN_OR_RETURN(http::HttpResponse r, Raw("GET", "/_ping", ""));
  if (r.status != 200) return ErrorFromResponse("GET /_ping on " + endpoint_, r);
  PingResult p;
  p.api_version = r.Header("api-version");
  p.os_type = r.Header("ostype");
  if (p.api_version.empty()) {
    // A proxy may drop the header: /version carries it too.
    RF_ASSIGN_OR_RETURN(http::HttpResponse v, Raw("GET", "/version", ""));
    if (v.status != 200) return ErrorFromResponse("GET /version on " + endpoint_, v);
    RF_ASSIGN_OR_RETURN(p.api_version,
                        ParseJson<std::string>("GET /version on " + endpoint_, v.body,
                                               [](const json& j) { return Str(j, "ApiVersion"); }));
    if (p.api_version.empty()) {
      return UnavailableError("docker " + endpoint_ + ": neither /_ping nor /version reports an API version");
    }
  }
  if (CompareApiVersions(p.api_version, kMinApiVersion) < 0) {
    return FailedPreconditionError(fmt::format(
        "docker {}: daemon API version {} is older than the minimum {} (Docker Engine 20.10)",
        endpoint_, p.api_version, kMinApiVersion));
  }
  p.negotiated = CompareApiVersions(p.api_version, kMaxApiVersion) > 0 ? std::string(kMaxApiVersion)
                                                                      : p.api_version;
  std::lock_guard<std::mutex> lock(mu_);
  version_ = p.negotiated;
  return p;
}

StatusOr<std::string> DockerClient::ApiVersion() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!version_.empty()) return version_;
  }
  RF_ASSIGN_OR_RETURN(PingResult p, Ping());
  return p.negotiated;
}

StatusOr<http::HttpResponse> DockerClient::Call(const std::string& method, const std::string& path,
                                                const std::string& json_body,
                                                std::vector<long> ok_statuses) {
  RF_ASSIGN_OR_RETURN(std::string version, ApiVersion());
  RF_ASSIGN_OR_RETURN(http::HttpResponse r, Raw(method, "/v" + version + path, json_body));
  if ((r.status >= 200 && r.status < 300) ||
      std::find(ok_statuses.begin(), ok_statuses.end(), r.status) != ok_statuses.end()) {
    return r;
  }
  std::string what = method + " " + path.substr(0, path.find('?')) + " on " + endpoint_;
  Status err = ErrorFromResponse(what, r);
  if (r.status == 400 && err.message().find("too new") != std::string::npos) {
    std::lock_guard<std::mutex> lock(mu_);
    version_.clear();  // the daemon changed under us: negotiate again next time
  }
  return err;
}

StatusOr<std::vector<ContainerSummary>> DockerClient::ListContainers(
    const std::vector<std::string>& labels) {
  std::string path = "/containers/json?all=1";
  if (!labels.empty()) {
    json filter = json::object();
    for (const auto& l : labels) filter["label"][l] = true;
    path += "&filters=" + Escape(filter.dump());
  }
  RF_ASSIGN_OR_RETURN(http::HttpResponse r, Call("GET", path));
  return ParseJson<std::vector<ContainerSummary>>("GET /containers/json", r.body, [](const json& j) {
    std::vector<ContainerSummary> out;
    if (!j.is_array()) throw std::runtime_error("not an array");
    for (const auto& c : j) {
      ContainerSummary s;
      s.id = Str(c, "Id");
      for (auto& n : StringList(c.value("Names", json::array()))) s.names.push_back(StripSlash(n));
      s.image = Str(c, "Image");
      s.state = Str(c, "State");
      s.labels = StringMap(c.value("Labels", json::object()));
      out.push_back(std::move(s));
    }
    return out;
  });
}

std::string DockerClient::CreateBody(const ContainerCreateSpec& spec) {
  json body = json::object();
  body["Image"] = spec.image;
  if (!spec.cmd.empty()) body["Cmd"] = spec.cmd;
  if (!spec.env.empty()) body["Env"] = spec.env;
  body["Labels"] = spec.labels;
  if (!spec.exposed_ports.empty()) {
    json ports = json::object();
    for (const auto& p : spec.exposed_ports) ports[p] = json::object();
    body["ExposedPorts"] = ports;
  }
  json host = json::object();
  if (spec.memory_bytes > 0) host["Memory"] = spec.memory_bytes;
  if (spec.memory_swap_bytes != 0) host["MemorySwap"] = spec.memory_swap_bytes;
  if (!spec.restart_policy.empty()) {
    host["RestartPolicy"] = {{"Name", spec.restart_policy}, {"MaximumRetryCount", 0}};
  }
  if (!spec.network_mode.empty()) host["NetworkMode"] = spec.network_mode;
  if (!spec.port_bindings.empty()) {
    json pb = json::object();
    for (const auto& [port, bindings] : spec.port_bindings) {
      json list = json::array();
      for (const auto& b : bindings) list.push_back({{"HostIp", b.host_ip}, {"HostPort", b.host_port}});
      pb[port] = list;
    }
    host["PortBindings"] = pb;
  }
  if (!spec.binds.empty()) host["Binds"] = spec.binds;
  body["HostConfig"] = host;
  return body.dump();
}

StatusOr<std::string> DockerClient::CreateContainer(const ContainerCreateSpec& spec) {
  std::string body;
  try {
    body = CreateBody(spec);
  } catch (const std::exception& e) {  // invalid UTF-8 in a string
    return InvalidArgumentError("docker create " + spec.name + ": " + e.what());
  }
  RF_ASSIGN_OR_RETURN(http::HttpResponse r,
                      Call("POST", "/containers/create?name=" + Escape(spec.name), body));
  RF_ASSIGN_OR_RETURN(std::string id,
                      ParseJson<std::string>("POST /containers/create", r.body,
                                             [](const json& j) { return Str(j, "Id"); }));
  if (id.empty()) return InternalError("docker POST /containers/create on " + endpoint_ + ": no Id in response");
  return id;
}

Status DockerClient::StartContainer(const std::string& id) {
  return Call("POST", "/containers/" + Escape(id) + "/start", "", {304}).status();
}

StatusOr<ContainerInfo> DockerClient::InspectContainer(const std::string& id) {
  RF_ASSIGN_OR_RETURN(http::HttpResponse r, Call("GET", "/containers/" + Escape(id) + "/json"));
  return ParseJson<ContainerInfo>("GET /containers/{id}/json", r.body, [](const json& j) {
    ContainerInfo c;
    c.id = Str(j, "Id");
    c.name = StripSlash(Str(j, "Name"));
    const json& state = Obj(j, "State");
    c.status = Str(state, "Status");
    c.running = Bool(state, "Running");
    c.oom_killed = Bool(state, "OOMKilled");
    c.exit_code = Int(state, "ExitCode");
    c.error = Str(state, "Error");
    const json& config = Obj(j, "Config");
    c.image = Str(config, "Image");
    c.cmd = StringList(config.value("Cmd", json::array()));
    c.env = StringList(config.value("Env", json::array()));
    c.labels = StringMap(config.value("Labels", json::object()));
    const json& host = Obj(j, "HostConfig");
    c.memory_bytes = Int(host, "Memory");
    c.memory_swap_bytes = Int(host, "MemorySwap");
    c.network_mode = Str(host, "NetworkMode");
    c.restart_policy = Str(Obj(host, "RestartPolicy"), "Name");
    c.port_bindings = PortMap(host.value("PortBindings", json::object()));
    return c;
  });
}

Status DockerClient::UpdateContainerMemory(const std::string& id, int64_t memory_bytes,
                                           int64_t memory_swap_bytes) {
  json body = {{"Memory", memory_bytes}, {"MemorySwap", memory_swap_bytes}};
  return Call("POST", "/containers/" + Escape(id) + "/update", body.dump()).status();
}

Status DockerClient::StopContainer(const std::string& id, std::chrono::seconds grace) {
  return Call("POST", "/containers/" + Escape(id) + "/stop?t=" + std::to_string(grace.count()), "",
              {304})
      .status();
}

Status DockerClient::RemoveContainer(const std::string& id, bool force, bool remove_volumes) {
  std::string path = "/containers/" + Escape(id) + "?force=" + (force ? "1" : "0") +
                     "&v=" + (remove_volumes ? "1" : "0");
  return Call("DELETE", path).status();
}

StatusOr<std::string> DockerClient::ContainerLogs(const std::string& id, int tail_lines) {
  RF_ASSIGN_OR_RETURN(http::HttpResponse r,
                      Call("GET", "/containers/" + Escape(id) + "/logs?stdout=1&stderr=1&tail=" +
                                      std::to_string(tail_lines)));
  return Demultiplex(r.body);
}

StatusOr<std::vector<ImageInfo>> DockerClient::ListImages() {
  RF_ASSIGN_OR_RETURN(http::HttpResponse r, Call("GET", "/images/json"));
  return ParseJson<std::vector<ImageInfo>>("GET /images/json", r.body, [](const json& j) {
    std::vector<ImageInfo> out;
    if (!j.is_array()) throw std::runtime_error("not an array");
    for (const auto& i : j) out.push_back({Str(i, "Id"), StringList(i.value("RepoTags", json::array()))});
    return out;
  });
}

StatusOr<ImageInfo> DockerClient::InspectImage(const std::string& name) {
  RF_ASSIGN_OR_RETURN(http::HttpResponse r, Call("GET", "/images/" + Escape(name, "/:@") + "/json"));
  return ParseJson<ImageInfo>("GET /images/{name}/json", r.body, [](const json& j) {
    return ImageInfo{Str(j, "Id"), StringList(j.value("RepoTags", json::array()))};
  });
}

StatusOr<DaemonInfo> DockerClient::Info() {
  RF_ASSIGN_OR_RETURN(http::HttpResponse r, Call("GET", "/info"));
  RF_ASSIGN_OR_RETURN(DaemonInfo info, ParseJson<DaemonInfo>("GET /info", r.body, [](const json& j) {
    if (!j.is_object()) throw std::runtime_error("not an object");
    return DaemonInfo{Int(j, "MemTotal"), Int(j, "NCPU"), Str(j, "ServerVersion"), Str(j, "Name")};
  }));
  if (info.mem_total_bytes <= 0) {
    return InternalError("docker GET /info on " + endpoint_ + ": no positive MemTotal in response");
  }
  return info;
}

}  // namespace redisfleet::docker
