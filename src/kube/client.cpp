#include "kube/client.h"

#include <cstdlib>
#include <utility>

#include "common/fs.h"
#include "common/redact.h"

namespace redisfleet::kube {
namespace {

using nlohmann::json;

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// Appends "&key=value" (or "?key=value" for the first) when value is non-empty.
void AddQuery(std::string& path, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  path += path.find('?') == std::string::npos ? '?' : '&';
  path += key;
  path += '=';
  path += PercentEncode(value);
}

std::string StringField(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// Seconds from a Retry-After header (delta-seconds form) or the Status' details.
std::optional<std::chrono::seconds> RetryAfter(const http::HttpResponse& response, const json& body) {
  const std::string header = response.Header("Retry-After");
  if (!header.empty()) {
    char* end = nullptr;
    const long secs = std::strtol(header.c_str(), &end, 10);
    if (end != header.c_str() && *end == '\0' && secs >= 0) return std::chrono::seconds(secs);
  }
  if (body.is_object() && body.contains("details") && body["details"].is_object()) {
    const json& d = body["details"];
    if (auto it = d.find("retryAfterSeconds"); it != d.end() && it->is_number_integer() && it->get<long>() > 0) {
      return std::chrono::seconds(it->get<long>());
    }
  }
  return std::nullopt;
}

void ScrubInPlace(std::string& text, const std::string& secret) {
  if (secret.empty()) return;
  for (std::size_t pos = text.find(secret); pos != std::string::npos;
       pos = text.find(secret, pos + kRedacted.size())) {
    text.replace(pos, secret.size(), kRedacted);
  }
}

// Transport errors from the HTTP client: keep FailedPrecondition for 410 only (IsExpired).
Status FromTransport(const Status& s) {
  if (s.code() == StatusCode::kFailedPrecondition) return UnavailableError(s.message());
  return s;
}

}  // namespace

ResourcePath ResourcePath::InNamespace(std::string ns) const {
  ResourcePath p = *this;
  p.namespace_name = std::move(ns);
  return p;
}
ResourcePath ResourcePath::Named(std::string object_name) const {
  ResourcePath p = *this;
  p.name = std::move(object_name);
  return p;
}
ResourcePath ResourcePath::Sub(std::string sub) const {
  ResourcePath p = *this;
  p.subresource = std::move(sub);
  return p;
}
ResourcePath ResourcePath::Collection() const {
  ResourcePath p = *this;
  p.name.clear();
  p.subresource.clear();
  return p;
}

std::string ResourcePath::Path() const {
  std::string p = group.empty() ? "/api/" + PercentEncode(version)
                                : "/apis/" + PercentEncode(group) + "/" + PercentEncode(version);
  if (!namespace_name.empty()) p += "/namespaces/" + PercentEncode(namespace_name);
  p += "/" + PercentEncode(plural);
  if (!name.empty()) {
    p += "/" + PercentEncode(name);
    if (!subresource.empty()) p += "/" + PercentEncode(subresource);
  }
  return p;
}

std::string_view WatchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded: return "ADDED";
    case WatchEventType::kModified: return "MODIFIED";
    case WatchEventType::kDeleted: return "DELETED";
    case WatchEventType::kBookmark: return "BOOKMARK";
  }
  return "?";
}

KubeClient::KubeClient(Options options, const Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      http_(http::HttpClientOptions{
          .base_url = options_.config.server,
          .ca_file = options_.config.ca_file,
          .cert_file = options_.config.cert_file,
          .key_file = options_.config.key_file,
          .ca_pem = options_.config.ca_pem,
          .cert_pem = options_.config.cert_pem,
          .key_pem = options_.config.key_pem,
          .insecure_skip_verify = options_.config.insecure_skip_tls_verify,
          .user_agent = options_.user_agent,
      }),
      limiter_(options_.qps, options_.burst, clock),
      token_(options_.config.bearer_token),
      token_read_at_(clock.Now()) {}

std::string KubeClient::Token() {
  std::lock_guard<std::mutex> lock(token_mu_);
  if (!options_.config.token_file.empty() && clock_.Now() - token_read_at_ >= options_.token_reload) {
    token_read_at_ = clock_.Now();
    if (auto text = ReadFile(options_.config.token_file); text.ok()) {
      std::string t = std::move(*text);
      while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
      if (!t.empty()) token_ = std::move(t);  // keep the old token when the file is unreadable
    }
  }
  return token_;
}

Status KubeClient::Scrub(Status status) {
  if (status.ok()) return status;
  std::string message = RedactSecrets(status.message());
  std::string token;
  {
    std::lock_guard<std::mutex> lock(token_mu_);
    token = token_;
  }
  ScrubInPlace(message, token);
  ScrubInPlace(message, options_.config.bearer_token);
  return Status(status.code(), std::move(message));
}

Status KubeClient::StatusFromApi(long http_status, const json& body, std::string_view what) {
  const std::string reason = StringField(body, "reason");
  std::string message = StringField(body, "message");
  long code = http_status;
  if (body.is_object() && body.contains("code") && body["code"].is_number_integer()) {
    code = body["code"].get<long>();
  }
  if (code >= 200 && code < 300) code = http_status;  // a Status body of a failure carries its code
  std::string text = std::string(what) + ": " + (reason.empty() ? "HTTP " + std::to_string(code) : reason);
  if (!message.empty()) text += ": " + message;
  if (body.is_object() && body.contains("details") && body["details"].is_object()) {
    const json& details = body["details"];
    if (auto causes = details.find("causes"); causes != details.end() && causes->is_array()) {
      std::string fields;
      for (const json& cause : *causes) {
        const std::string field = StringField(cause, "field");
        if (field.empty()) continue;
        fields += (fields.empty() ? "" : ", ") + field;
      }
      if (!fields.empty()) text += " (fields: " + fields + ")";
    }
  }
  switch (code) {
    case 404: return NotFoundError(std::move(text));
    case 409:
      return reason == "AlreadyExists" ? AlreadyExistsError(std::move(text)) : ConflictError(std::move(text));
    case 410: return FailedPreconditionError(std::move(text));
    case 400:
    case 415:
    case 422: return InvalidArgumentError(std::move(text));
    case 401: return UnauthenticatedError(std::move(text));
    case 403: return PermissionDeniedError(std::move(text));
    case 408: return DeadlineExceededError(std::move(text));
    case 429: return ResourceExhaustedError(std::move(text));
    default: break;
  }
  if (code >= 500) return UnavailableError(std::move(text));
  if (code >= 400) return InvalidArgumentError(std::move(text));
  return InternalError(std::move(text));
}

StatusOr<json> KubeClient::Do(const Call& call) {
  const std::string what = call.method + " " + call.path_and_query.substr(0, call.path_and_query.find('?'));
  for (int attempt = 0;; ++attempt) {
    RF_RETURN_IF_ERROR(limiter_.Wait());
    http::HttpRequest request;
    request.method = call.method;
    request.path_and_query = call.path_and_query;
    request.body = call.body;
    request.timeout = options_.request_timeout;
    request.headers.emplace_back("Accept", "application/json");
    if (!call.content_type.empty()) request.headers.emplace_back("Content-Type", call.content_type);
    if (std::string token = Token(); !token.empty()) {
      request.headers.emplace_back("Authorization", "Bearer " + token);
    }
    auto response = http_.Do(request);
    if (!response.ok()) return Scrub(FromTransport(response.error()));

    json body = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    if (response->status >= 200 && response->status < 300) {
      if (body.is_discarded()) return UnavailableError(what + ": the response is not JSON");
      return body;
    }
    if (body.is_discarded()) body = json();
    const bool retryable = response->status == 429 ||
                           (response->status >= 500 && !response->Header("Retry-After").empty());
    if (retryable && attempt < options_.max_retries) {
      const auto delay = RetryAfter(*response, body).value_or(std::chrono::seconds(1));
      RF_RETURN_IF_ERROR(limiter_.SleepUntil(clock_.Now() + delay));
      continue;
    }
    return Scrub(StatusFromApi(response->status, body, what));
  }
}

StatusOr<json> KubeClient::Get(const ResourcePath& object) {
  return Do({"GET", object.Path(), "", ""});
}

StatusOr<ListPage> KubeClient::ListOnePage(const ResourcePath& collection, const ListOptions& options) {
  std::string path = collection.Collection().Path();
  AddQuery(path, "labelSelector", options.label_selector);
  AddQuery(path, "fieldSelector", options.field_selector);
  if (options.limit > 0) AddQuery(path, "limit", std::to_string(options.limit));
  AddQuery(path, "continue", options.continue_token);
  AddQuery(path, "resourceVersion", options.resource_version);
  RF_ASSIGN_OR_RETURN(json body, Do({"GET", path, "", ""}));
  if (!body.is_object() || !body.contains("items") || !(body["items"].is_array() || body["items"].is_null())) {
    return UnavailableError("GET " + collection.Collection().Path() + ": the response is not a list");
  }
  ListPage page;
  const json metadata = body.value("metadata", json::object());
  page.resource_version = StringField(metadata, "resourceVersion");
  page.continue_token = StringField(metadata, "continue");
  std::string item_kind = StringField(body, "kind");
  if (item_kind.ends_with("List")) item_kind.resize(item_kind.size() - 4);
  const std::string api_version = StringField(body, "apiVersion");
  if (body["items"].is_array()) {
    for (json& item : body["items"]) {
      if (item.is_object()) {
        if (!item_kind.empty() && !item.contains("kind")) item["kind"] = item_kind;
        if (!api_version.empty() && !item.contains("apiVersion")) item["apiVersion"] = api_version;
      }
      page.items.push_back(std::move(item));
    }
  }
  return page;
}

StatusOr<ListResult> KubeClient::List(const ResourcePath& collection, const ListOptions& options) {
  ListResult result;
  ListOptions page_options = options;
  page_options.continue_token.clear();
  for (bool first = true;; first = false) {
    RF_ASSIGN_OR_RETURN(ListPage page, ListOnePage(collection, page_options));
    if (first) result.resource_version = page.resource_version;
    for (json& item : page.items) result.items.push_back(std::move(item));
    if (page.continue_token.empty()) return result;
    page_options.continue_token = page.continue_token;
    page_options.resource_version.clear();  // the continue token pins the snapshot
  }
}

StatusOr<json> KubeClient::Create(const ResourcePath& collection, const json& object) {
  return Do({"POST", collection.Collection().Path(), "application/json", object.dump()});
}

StatusOr<json> KubeClient::Update(const ResourcePath& object_path, const json& object) {
  return Do({"PUT", object_path.Path(), "application/json", object.dump()});
}

StatusOr<json> KubeClient::MergePatch(const ResourcePath& object_path, const json& patch) {
  return Do({"PATCH", object_path.Path(), "application/merge-patch+json", patch.dump()});
}

StatusOr<json> KubeClient::UpdateStatus(const ResourcePath& object_path, const json& object) {
  return Do({"PUT", object_path.Sub("status").Path(), "application/json", object.dump()});
}

StatusOr<json> KubeClient::Delete(const ResourcePath& object_path, const DeleteOptions& options) {
  json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!options.precondition_uid.empty()) body["preconditions"]["uid"] = options.precondition_uid;
  if (!options.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = options.precondition_resource_version;
  }
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  return Do({"DELETE", object_path.Path(), "application/json", body.dump()});
}

Status KubeClient::Watch(const ResourcePath& collection, const WatchOptions& options,
                         const WatchCallback& callback, const std::function<bool()>& stop) {
  const std::string base = collection.Collection().Path();
  const std::string what = "WATCH " + base;
  std::string path = base + "?watch=true";
  AddQuery(path, "resourceVersion", options.resource_version);
  if (options.allow_watch_bookmarks) AddQuery(path, "allowWatchBookmarks", "true");
  if (options.timeout.count() > 0) AddQuery(path, "timeoutSeconds", std::to_string(options.timeout.count()));
  AddQuery(path, "labelSelector", options.label_selector);
  AddQuery(path, "fieldSelector", options.field_selector);

  RF_RETURN_IF_ERROR(limiter_.Wait(stop));  // the only token a watch takes
  http::HttpRequest request;
  request.method = "GET";
  request.path_and_query = path;
  request.timeout = options.timeout + std::chrono::seconds(60);
  request.headers.emplace_back("Accept", "application/json");
  if (std::string token = Token(); !token.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + token);
  }

  std::string buffer;      // bytes after the last complete line
  std::string error_body;  // the body of a non-200 answer
  Status stream_status;    // set by an ERROR event or a malformed line
  auto handle_line = [&](std::string_view line) -> bool {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) return true;
    json event = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (event.is_discarded() || !event.is_object()) {
      stream_status = UnavailableError(what + ": malformed event in the watch stream");
      return false;
    }
    const std::string type = StringField(event, "type");
    const json& object = event.contains("object") ? event["object"] : json();
    if (type == "ERROR") {
      stream_status = StatusFromApi(500, object, what);
      return false;
    }
    WatchEventType t;
    if (type == "ADDED") t = WatchEventType::kAdded;
    else if (type == "MODIFIED") t = WatchEventType::kModified;
    else if (type == "DELETED") t = WatchEventType::kDeleted;
    else if (type == "BOOKMARK") t = WatchEventType::kBookmark;
    else return true;  // unknown event types are skipped, as client-go does
    callback(t, object);
    return true;
  };
  auto sink = [&](const http::HttpResponse& head, std::string_view data) -> bool {
    if (head.status != 200) {
      error_body.append(data);
      return error_body.size() < (1 << 20);
    }
    buffer.append(data);
    std::size_t start = 0;
    for (std::size_t nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n', start)) {
      if (!handle_line(std::string_view(buffer).substr(start, nl - start))) return false;
      start = nl + 1;
    }
    buffer.erase(0, start);
    return true;
  };
  auto response = http_.DoStream(request, sink, stop);
  if (!response.ok()) {
    if (response.error().code() == StatusCode::kCancelled) return CancelledError(what + ": stopped");
    return Scrub(FromTransport(response.error()));
  }
  if (response->status != 200) {
    json body = json::parse(error_body, nullptr, false);
    return Scrub(StatusFromApi(response->status, body.is_discarded() ? json() : body, what));
  }
  if (!stream_status.ok()) return Scrub(stream_status);
  if (!buffer.empty() && !handle_line(buffer)) return Scrub(stream_status);
  return Status::Ok();
}

}  // namespace redisfleet::kube
