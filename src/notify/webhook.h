#pragma once
// A JSON webhook: POST of ToJson(notification) to a URL (http:// or https://). Userinfo in the
// URL ("https://user:token@host/...") is sent as HTTP basic auth and never printed.

#include <chrono>
#include <memory>
#include <string>

#include "http/http_client.h"
#include "notify/notification.h"

namespace redisfleet::notify {

struct WebhookOptions {
  std::string url{};
  std::string ca_file{};  // https: verify against this CA bundle; "" = the system store
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{10000};  // the whole exchange
};

class WebhookSink final : public Sink {
 public:
  explicit WebhookSink(WebhookOptions options);
  std::string_view channel() const override { return "webhook"; }
  // 2xx = OK. Another status: HttpClient::StatusFromHttp's code (5xx kUnavailable, 401
  // kUnauthenticated, ...) with "webhook POST <url>: HTTP <status>"; transport failures keep
  // HttpClient's code. The URL's userinfo and query are redacted in every message.
  Status Send(const Notification& n) override;

 private:
  WebhookOptions options_;
  std::string display_url_;
  std::string path_and_query_;
  Status invalid_;  // set when the URL could not be parsed
  std::unique_ptr<http::HttpClient> client_;
};

}  // namespace redisfleet::notify
