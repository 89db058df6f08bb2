#pragma once
// A small synchronous HTTP client on libcurl for the APIs redis-fleet talks to (Docker Engine,
// cloud APIs). One HttpClient per remote; it reaches http://, https:// (optional client
// certificate) or a unix socket. Credentials never appear in the Status messages it produces.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace redisfleet::http {

// Percent-encodes every byte of `s` except letters, digits and the characters in `keep` (RFC
// 3986 unreserved by default), for a query value or a path segment.
std::string PercentEncode(std::string_view s, std::string_view keep = "-_.~");

struct HttpRequest {
  std::string method = "GET";
  std::string path_and_query = "/";  // appended to HttpClientOptions::base_url
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  std::chrono::milliseconds timeout{30000};  // the whole exchange
};

struct HttpResponse {
  long status = 0;
  std::multimap<std::string, std::string> headers{};  // names lower-case
  std::string body{};

  // The first value of header `name` (any case), or "" when absent.
  std::string Header(std::string_view name) const;
};

struct HttpClientOptions {
  // "http://host:port", "https://host:port" or "unix:///path/to.sock" (requests then go to
  // http://localhost over the socket). A trailing "/" is ignored.
  std::string base_url{};
  std::string ca_file{};    // https: verify the server against this CA bundle
  std::string cert_file{};  // https: client certificate (PEM)
  std::string key_file{};   // https: its key (PEM)
  // The same as PEM data held in memory (kubeconfig "*-data" fields); used when non-empty,
  // never written to disk.
  std::string ca_pem{};
  std::string cert_pem{};
  std::string key_pem{};
  bool insecure_skip_verify = false;
  std::string basic_auth{};    // "user:password", sent as HTTP basic auth
  std::string bearer_token{};  // sent as "Authorization: Bearer <token>"
  std::chrono::milliseconds connect_timeout{5000};
  std::string user_agent = "redis-fleet/0.1";
};

// Thread-safe: every Do() uses its own curl handle; the options are immutable. Starts no
// threads.
class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);

  // Sends one request and reads the whole response. Any HTTP status is a response, not an
  // error (callers map statuses, e.g. with StatusFromHttp). Transport failures are kUnavailable
  // and a timeout is kDeadlineExceeded, with a message naming the method and the URL
  // (credentials redacted); a TLS server that refuses the client certificate (its fatal alert
  // names it) is kUnauthenticated. InvalidArgument for a request curl cannot build.
  StatusOr<HttpResponse> Do(const HttpRequest& request) const;

  // Called with the response so far (status and headers set, body empty) and the next piece of
  // the body as it arrives. Returning false ends the transfer.
  using BodySink = std::function<bool(const HttpResponse& head, std::string_view data)>;

  // Like Do(), but streams the body to `on_body` instead of collecting it (chunked streams such
  // as Kubernetes watches). When `on_body` returns false the transfer ends and the response
  // (status, headers, empty body) is returned. `stop` (may be empty) is polled at least every
  // 50 ms; once it returns true the transfer is abandoned with kCancelled. Other errors as Do().
  StatusOr<HttpResponse> DoStream(const HttpRequest& request, const BodySink& on_body,
                                  const std::function<bool()>& stop) const;

  // The base URL as it may appear in messages: userinfo redacted, unix sockets as unix://.
  const std::string& display_base() const { return display_base_; }

  // Maps an HTTP status to a Status whose code says what to do next: <400 OK, 400/422
  // InvalidArgument, 401 Unauthenticated, 403 PermissionDenied, 404/410 NotFound,
  // 408 DeadlineExceeded, 409 Conflict, 412 FailedPrecondition, 429 ResourceExhausted,
  // 5xx Unavailable, other 4xx InvalidArgument. The message is "HTTP <status>: <message>".
  static Status StatusFromHttp(long status, std::string_view message);

 private:
  StatusOr<HttpResponse> Exchange(const HttpRequest& request, const BodySink* on_body,
                                  const std::function<bool()>* stop) const;

  HttpClientOptions options_;
  std::string url_base_;     // what curl is given before the path
  std::string unix_socket_;  // non-empty for unix:// bases
  std::string display_base_;
};

}  // namespace redisfleet::http
