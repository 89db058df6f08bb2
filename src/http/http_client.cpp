#include "http/http_client.h"

#include <curl/curl.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "common/redact.h"

namespace redisfleet::http {
namespace {

constexpr std::string_view kUnixScheme = "unix://";

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// Replaces every occurrence of `secret` (when non-empty) in `text`.
void ScrubInPlace(std::string& text, std::string_view secret) {
  if (secret.empty()) return;
  for (std::size_t pos = text.find(secret); pos != std::string::npos;
       pos = text.find(secret, pos + kRedacted.size())) {
    text.replace(pos, secret.size(), kRedacted);
  }
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// Where the body goes: collected into response->body, or handed to a streaming sink.
struct BodyTarget {
  CURL* curl = nullptr;
  HttpResponse* response = nullptr;
  const HttpClient::BodySink* sink = nullptr;
  bool sink_stopped = false;
};

size_t WriteBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* target = static_cast<BodyTarget*>(user);
  const size_t n = size * nmemb;
  if (target->sink == nullptr) {
    target->response->body.append(data, n);
    return n;
  }
  curl_easy_getinfo(target->curl, CURLINFO_RESPONSE_CODE, &target->response->status);
  if (!(*target->sink)(*target->response, std::string_view(data, n))) {
    target->sink_stopped = true;
    return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
  }
  return n;
}

struct MultiDeleter {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};

// Runs one transfer on a multi handle so that `stop` can be polled while the stream is idle.
// Returns CURLE_ABORTED_BY_CALLBACK when `stop` ended it.
CURLcode PerformPolling(CURL* c, const std::function<bool()>& stop) {
  std::unique_ptr<CURLM, MultiDeleter> multi(curl_multi_init());
  if (!multi) return CURLE_OUT_OF_MEMORY;
  if (curl_multi_add_handle(multi.get(), c) != CURLM_OK) return CURLE_FAILED_INIT;
  CURLcode result = CURLE_OK;
  for (;;) {
    int running = 0;
    if (curl_multi_perform(multi.get(), &running) != CURLM_OK) {
      result = CURLE_RECV_ERROR;
      break;
    }
    if (running == 0) {
      int queued = 0;
      result = CURLE_RECV_ERROR;
      while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == c) result = msg->data.result;
      }
      break;
    }
    if (stop && stop()) {
      result = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    if (curl_multi_poll(multi.get(), nullptr, 0, 50, nullptr) != CURLM_OK) {
      result = CURLE_RECV_ERROR;
      break;
    }
  }
  curl_multi_remove_handle(multi.get(), c);
  return result;
}

size_t WriteHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* headers = static_cast<std::multimap<std::string, std::string>*>(user);
  std::string_view line(data, size * nmemb);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after 100 Continue): keep only the final one's headers
  } else if (std::size_t colon = line.find(':'); colon != std::string_view::npos) {
    headers->emplace(Lower(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1))));
  }
  return size * nmemb;
}

// What OpenSSL saw of the TLS handshake during the current Do() on this thread. With TLS 1.3
// the client's side of the handshake ends before the server has checked the client
// certificate: a server that refuses it then sends a fatal alert and closes (often with a
// reset, as the client's last handshake records are still unread). curl may then fail on its
// first write before reading the alert, and its error buffer keeps the first, unrelated,
// non-fatal message ("getpeername() failed ..."). These observations name the real cause.
struct TlsObserved {
  bool cert_requested = false;  // the server sent a CertificateRequest
  bool handshake_done = false;
  int alert = -1;          // the first fatal alert received (RFC 8446 section 6), -1 when none
  std::string alert_text;  // OpenSSL's name for it ("bad certificate")
};
thread_local TlsObserved* t_tls = nullptr;

void ObserveTls(const SSL* ssl, int where, int ret) {
  TlsObserved* o = t_tls;
  if (o == nullptr) return;
  if ((where & SSL_CB_LOOP) != 0 && SSL_get_state(ssl) == TLS_ST_CR_CERT_REQ) o->cert_requested = true;
  if ((where & SSL_CB_HANDSHAKE_DONE) != 0) o->handshake_done = true;
  if ((where & SSL_CB_READ_ALERT) == SSL_CB_READ_ALERT && (ret >> 8) == SSL3_AL_FATAL &&
      o->alert < 0) {
    o->alert = ret & 0xff;
    o->alert_text = SSL_alert_desc_string_long(ret);
  }
}

CURLcode InstallTlsObserver(CURL* /*curl*/, void* ssl_ctx, void* /*user*/) {
  SSL_CTX_set_info_callback(static_cast<SSL_CTX*>(ssl_ctx), &ObserveTls);
  return CURLE_OK;
}

// Alerts saying the peer refused our credentials (certificate or access).
bool IsCredentialAlert(int alert) {
  switch (alert) {
    case SSL3_AD_BAD_CERTIFICATE:
    case SSL3_AD_UNSUPPORTED_CERTIFICATE:
    case SSL3_AD_CERTIFICATE_REVOKED:
    case SSL3_AD_CERTIFICATE_EXPIRED:
    case SSL3_AD_CERTIFICATE_UNKNOWN:
    case TLS1_AD_UNKNOWN_CA:
    case TLS1_AD_ACCESS_DENIED:
    case TLS13_AD_CERTIFICATE_REQUIRED:
      return true;
    default:
      return false;
  }
}

// Points t_tls at `observed` for the lifetime of one transfer on this thread.
class TlsObserverScope {
 public:
  explicit TlsObserverScope(TlsObserved* observed) : previous_(t_tls) { t_tls = observed; }
  ~TlsObserverScope() { t_tls = previous_; }
  TlsObserverScope(const TlsObserverScope&) = delete;
  TlsObserverScope& operator=(const TlsObserverScope&) = delete;

 private:
  TlsObserved* previous_;
};

}  // namespace

std::string PercentEncode(std::string_view s, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {
  std::string_view base = options_.base_url;
  while (base.size() > 1 && base.back() == '/' && !base.ends_with("://")) base.remove_suffix(1);
  if (base.starts_with(kUnixScheme)) {
    unix_socket_ = std::string(base.substr(kUnixScheme.size()));
    url_base_ = "http://localhost";
    display_base_ = std::string(kUnixScheme) + unix_socket_;
  } else {
    url_base_ = std::string(base);
    display_base_ = RedactSecrets(url_base_);
  }
}

StatusOr<HttpResponse> HttpClient::Do(const HttpRequest& request) const {
  return Exchange(request, nullptr, nullptr);
}

StatusOr<HttpResponse> HttpClient::DoStream(const HttpRequest& request, const BodySink& on_body,
                                            const std::function<bool()>& stop) const {
  return Exchange(request, &on_body, &stop);
}

StatusOr<HttpResponse> HttpClient::Exchange(const HttpRequest& request, const BodySink* on_body,
                                            const std::function<bool()>* stop) const {
  std::string path = request.path_and_query.empty() ? "/" : request.path_and_query;
  if (path.front() != '/') path.insert(path.begin(), '/');
  const std::string what = request.method + " " + display_base_ + RedactSecrets(path);
  auto fail = [&](Status status) {
    std::string message = RedactSecrets(status.message());
    if (std::size_t colon = options_.basic_auth.find(':'); colon != std::string::npos) {
      ScrubInPlace(message, std::string_view(options_.basic_auth).substr(colon + 1));
    }
    ScrubInPlace(message, options_.bearer_token);
    return Status(status.code(), std::move(message));
  };

  if (url_base_.empty() || (!unix_socket_.empty() && unix_socket_.front() != '/')) {
    return fail(InvalidArgumentError(what + ": base URL must be http://, https:// or unix:///path"));
  }
  if (request.method.empty() || HasLineBreak(request.method) || HasLineBreak(path) ||
      path.find(' ') != std::string::npos) {
    return fail(InvalidArgumentError(what + ": malformed method or path"));
  }

  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return fail(InternalError(what + ": curl_easy_init failed"));
  CURL* c = curl.get();
  const std::string url = url_base_ + path;
  char errbuf[CURL_ERROR_SIZE] = {0};
  HttpResponse response;

  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody);
  BodyTarget body_target{c, &response, on_body, false};
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body_target);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);
  if (!unix_socket_.empty()) curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, unix_socket_.c_str());
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.cert_file.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, options_.cert_file.c_str());
  if (!options_.key_file.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, options_.key_file.c_str());
  // curl copies blobs (CURL_BLOB_COPY), so these may point into options_.
  auto set_blob = [c](CURLoption option, const std::string& pem) {
    curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(c, option, &blob);
  };
  if (!options_.ca_pem.empty()) set_blob(CURLOPT_CAINFO_BLOB, options_.ca_pem);
  if (!options_.cert_pem.empty()) {
    set_blob(CURLOPT_SSLCERT_BLOB, options_.cert_pem);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (!options_.key_pem.empty()) {
    set_blob(CURLOPT_SSLKEY_BLOB, options_.key_pem);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  // Only OpenSSL builds of libcurl accept this; others keep curl's own messages.
  curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, &InstallTlsObserver);
  if (options_.insecure_skip_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!options_.basic_auth.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(c, CURLOPT_USERPWD, options_.basic_auth.c_str());
  }

  const bool sends_body = !request.body.empty() || request.method == "POST" ||
                          request.method == "PUT" || request.method == "PATCH";
  if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (sends_body && request.method != "GET" && request.method != "HEAD") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
  }

  std::unique_ptr<curl_slist, SlistDeleter> header_list;
  auto add_header = [&](const std::string& line) {
    header_list.reset(curl_slist_append(header_list.release(), line.c_str()));
  };
  bool has_content_type = false;
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value) ||
        name.find(':') != std::string::npos) {
      return fail(InvalidArgumentError(what + ": malformed header " + name));
    }
    if (Lower(name) == "content-type") has_content_type = true;
    add_header(name + ": " + value);
  }
  // curl would otherwise label a body as a form post.
  if (sends_body && !has_content_type) add_header("Content-Type:");
  add_header("Expect:");
  if (!options_.bearer_token.empty()) add_header("Authorization: Bearer " + options_.bearer_token);
  if (!header_list) return fail(InternalError(what + ": out of memory building headers"));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());

  TlsObserved tls;
  CURLcode rc;
  {
    TlsObserverScope scope(&tls);
    rc = on_body == nullptr ? curl_easy_perform(c) : PerformPolling(c, *stop);
  }
  if (on_body != nullptr) {
    if (rc == CURLE_ABORTED_BY_CALLBACK) return fail(CancelledError(what + ": stopped"));
    if (body_target.sink_stopped && rc == CURLE_WRITE_ERROR) rc = CURLE_OK;
  }
  if (rc != CURLE_OK) {
    std::string detail = errbuf[0] != '\0' ? std::string(Trim(errbuf)) : curl_easy_strerror(rc);
    std::string message = what + ": " + detail;
    constexpr std::string_view kRefusedHint =
        " (the server refused our client certificate: check the certificate, its key, and that "
        "the server trusts the CA that signed it)";
    if (tls.alert >= 0) {
      message = what + ": TLS alert from the server: " + tls.alert_text;
      if (IsCredentialAlert(tls.alert)) {
        return fail(UnauthenticatedError(message + std::string(kRefusedHint)));
      }
      return fail(UnavailableError(message));
    }
    // Not a byte of the request got out: the server dropped the connection it had just
    // completed, right after asking for our certificate.
    long request_bytes = 0;
    curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &request_bytes);
    if (tls.cert_requested && tls.handshake_done && rc == CURLE_SEND_ERROR && request_bytes == 0) {
      return fail(UnauthenticatedError(
          what + ": the server asked for a client certificate, completed the TLS handshake and "
                 "closed the connection before reading the request" + std::string(kRefusedHint)));
    }
    switch (rc) {
      case CURLE_OPERATION_TIMEDOUT:
        return fail(DeadlineExceededError(message));
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return fail(InvalidArgumentError(message));
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CACERT_BADFILE:
        return fail(FailedPreconditionError(message));
      default:
        return fail(UnavailableError(message));
    }
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

Status HttpClient::StatusFromHttp(long status, std::string_view message) {
  if (status >= 100 && status < 400) return Status::Ok();
  std::string text = "HTTP " + std::to_string(status) + ": " + std::string(message);
  switch (status) {
    case 400:
    case 422:
      return InvalidArgumentError(std::move(text));
    case 401:
      return UnauthenticatedError(std::move(text));
    case 403:
      return PermissionDeniedError(std::move(text));
    case 404:
    case 410:
      return NotFoundError(std::move(text));
    case 408:
      return DeadlineExceededError(std::move(text));
    case 409:
      return ConflictError(std::move(text));
    case 412:
      return FailedPreconditionError(std::move(text));
    case 429:
      return ResourceExhaustedError(std::move(text));
    default:
      break;
  }
  if (status >= 500 && status < 600) return UnavailableError(std::move(text));
  if (status >= 400 && status < 500) return InvalidArgumentError(std::move(text));
  return InternalError(std::move(text));
}

}  // namespace redisfleet::http
