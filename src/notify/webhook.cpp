#include "notify/webhook.h"

#include <cctype>

#include <fmt/format.h>

#include "common/redact.h"

namespace redisfleet::notify {
namespace {

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

void ScrubInPlace(std::string& text, std::string_view secret) {
  if (secret.empty()) return;
  for (std::size_t pos = text.find(secret); pos != std::string::npos;
       pos = text.find(secret, pos + kRedacted.size())) {
    text.replace(pos, secret.size(), kRedacted);
  }
}

}  // namespace

WebhookSink::WebhookSink(WebhookOptions options)
    : options_(std::move(options)), display_url_(DisplayUrl(options_.url)) {
  const std::string& url = options_.url;
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos || (url.substr(0, scheme_end) != "http" && url.substr(0, scheme_end) != "https")) {
    invalid_ = InvalidArgumentError(fmt::format("webhook {}: url must start with http:// or https://", display_url_));
    return;
  }
  const std::size_t authority = scheme_end + 3;
  const std::size_t authority_end = std::min(url.find_first_of("/?#", authority), url.size());
  std::string host_port = url.substr(authority, authority_end - authority);
  http::HttpClientOptions http_options;
  if (std::size_t at = host_port.rfind('@'); at != std::string::npos) {
    http_options.basic_auth = PercentDecode(host_port.substr(0, at));
    if (http_options.basic_auth.find(':') == std::string::npos) http_options.basic_auth += ':';
    host_port = host_port.substr(at + 1);
  }
  if (host_port.empty()) {
    invalid_ = InvalidArgumentError(fmt::format("webhook {}: url has no host", display_url_));
    return;
  }
  path_and_query_ = url.substr(authority_end);
  if (std::size_t hash = path_and_query_.find('#'); hash != std::string::npos) path_and_query_.resize(hash);
  if (path_and_query_.empty() || path_and_query_.front() != '/') path_and_query_ = "/" + path_and_query_;
  http_options.base_url = url.substr(0, authority) + host_port;
  http_options.ca_file = options_.ca_file;
  http_options.connect_timeout = options_.connect_timeout;
  client_ = std::make_unique<http::HttpClient>(std::move(http_options));
}

Status WebhookSink::Send(const Notification& n) {
  if (!invalid_.ok()) return invalid_;
  http::HttpRequest req;
  req.method = "POST";
  req.path_and_query = path_and_query_;
  req.headers = {{"Content-Type", "application/json"}, {"Accept", "*/*"}};
  req.body = ToJson(n).dump();
  req.timeout = options_.timeout;
  auto resp = client_->Do(req);
  if (!resp.ok()) {
    // HttpClient redacts credentials; the query (which may carry a token) is scrubbed here too.
    std::string msg = resp.error().message();
    if (std::size_t q = path_and_query_.find('?'); q != std::string::npos) {
      ScrubInPlace(msg, std::string_view(path_and_query_).substr(q + 1));
    }
    return Status(resp.error().code(), fmt::format("webhook POST {}: {}", display_url_, RedactSecrets(msg)));
  }
  if (resp->status >= 200 && resp->status < 300) return Status::Ok();
  Status mapped = http::HttpClient::StatusFromHttp(resp->status, "");
  if (mapped.ok()) mapped = UnavailableError("");  // 1xx/3xx: not delivered
  return Status(mapped.code(), fmt::format("webhook POST {}: HTTP {}", display_url_, resp->status));
}

}  // namespace redisfleet::notify
