// DigitalOcean API v2 client (see client.h for the contract). Status messages read
//   "digitalocean: <METHOD> <path>: HTTP <status> <id>: <message> (request_id <id>)"
// and never hold the token: every message passes through Scrub().

#include "providers/digitalocean/client.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/backoff.h"
#include "common/redact.h"
#include "http/http_client.h"

namespace redisfleet::digitalocean {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr std::size_t kMaxErrorBody = 200;
constexpr int kMaxPages = 10000;
// A reset or retry-after further away than this is treated as this (a bogus header must not
// stall the pool for days).
constexpr auto kMaxBlock = std::chrono::hours(1);

std::string Str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t Int(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  return it->is_number_float() ? static_cast<int64_t>(it->get<double>()) : it->get<int64_t>();
}

double Double(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0;
}

bool Bool(const json& j, const char* key, bool def) {
  if (!j.is_object()) return def;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : def;
}

std::vector<std::string> Strings(const json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.is_object()) return out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && s.size() <= 18 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

json IdOrString(const std::string& s) {
  if (AllDigits(s)) return json(std::strtoll(s.c_str(), nullptr, 10));
  return json(s);
}


std::optional<int64_t> HeaderInt(const http::HttpResponse& r, std::string_view name) {
  const std::string v = r.Header(name);
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (end == v.c_str()) return std::nullopt;
  return n;
}

Droplet ParseDroplet(const json& d) {
  Droplet out;
  out.id = Int(d, "id");
  out.name = Str(d, "name");
  out.status = Str(d, "status");
  out.tags = Strings(d, "tags");
  out.size_slug = Str(d, "size_slug");
  if (out.size_slug.empty() && d.contains("size")) out.size_slug = Str(d["size"], "slug");
  if (d.contains("region")) out.region = Str(d["region"], "slug");
  if (auto t = ParseTime(Str(d, "created_at"))) out.created_at = *t;
  out.locked = Bool(d, "locked", false);
  if (auto n = d.find("networks"); n != d.end() && n->is_object()) {
    if (auto v4 = n->find("v4"); v4 != n->end() && v4->is_array()) {
      for (const auto& a : *v4) {
        const std::string type = Str(a, "type");
        const std::string ip = Str(a, "ip_address");
        if (type == "public" && out.public_ipv4.empty()) out.public_ipv4 = ip;
        if (type == "private" && out.private_ipv4.empty()) out.private_ipv4 = ip;
      }
    }
  }
  return out;
}

Size ParseSize(const json& s) {
  Size out;
  out.slug = Str(s, "slug");
  out.memory_mb = Int(s, "memory");
  out.vcpus = Int(s, "vcpus");
  out.disk_gb = Int(s, "disk");
  out.price_monthly = Double(s, "price_monthly");
  out.price_hourly = Double(s, "price_hourly");
  out.available = Bool(s, "available", true);
  out.regions = Strings(s, "regions");
  return out;
}

}  // namespace

struct Client::Impl {
  ClientOptions options;
  std::shared_ptr<const Clock> clock;
  std::function<void(milliseconds)> sleep;
  std::shared_ptr<RandomSource> random;
  ClientObserver observer;
  http::HttpClient http;

  mutable std::mutex mu;
  RateLimit rate_limit;                  // guarded by mu
  TimePoint blocked_until{};             // guarded by mu: the API said "wait" until then
  std::deque<TimePoint> sends;           // guarded by mu: send times within the last hour
  std::atomic<int64_t> requests_sent{0};

  Impl(ClientOptions o, std::shared_ptr<const Clock> c, std::function<void(milliseconds)> s,
       std::shared_ptr<RandomSource> r, ClientObserver obs)
      : options(std::move(o)),
        clock(std::move(c)),
        sleep(std::move(s)),
        random(r ? std::move(r) : std::make_shared<CryptoRandom>()),
        observer(std::move(obs)),
        http([this] {
          http::HttpClientOptions h;
          h.base_url = options.api_url;
          h.bearer_token = options.token;
          h.user_agent = options.user_agent;
          h.connect_timeout = options.connect_timeout;
          h.ca_file = options.ca_file;
          return h;
        }()) {
    if (!sleep) sleep = [](milliseconds d) { std::this_thread::sleep_for(d); };
  }

  std::string Scrub(std::string text) const {
    const std::string& token = options.token;
    if (!token.empty()) {
      for (auto pos = text.find(token); pos != std::string::npos; pos = text.find(token, pos)) {
        text.replace(pos, token.size(), kRedacted);
      }
    }
    return RedactSecrets(text);
  }

  // Requires mu. Drops send times older than an hour.
  void PruneLocked(TimePoint now) {
    while (!sends.empty() && sends.front() <= now - std::chrono::hours(1)) sends.pop_front();
  }

  // Requires mu. When the rolling windows next allow a send (now if they do).
  TimePoint WindowFreeLocked(TimePoint now) const {
    TimePoint at = now;
    auto check = [&](Duration window, int64_t budget) {
      if (budget <= 0) return;
      // Entries inside the window are the newest ones.
      const auto first_in = std::find_if(sends.begin(), sends.end(),
                                         [&](TimePoint t) { return t > now - window; });
      const auto in = static_cast<int64_t>(std::distance(first_in, sends.end()));
      if (in < budget) return;
      // The send that must expire for one slot to free up.
      const TimePoint t = *(first_in + (in - budget)) + window;
      at = std::max(at, t);
    };
    check(std::chrono::minutes(1), options.per_minute);
    check(std::chrono::hours(1), options.per_hour);
    return at;
  }

  TimePoint RetryAfter() const {
    std::lock_guard lk(mu);
    const TimePoint now = clock->Now();
    return std::max({now, blocked_until, WindowFreeLocked(now)});
  }

  // Takes a slot for one request, or says why not (kResourceExhausted, nothing sent).
  Status Admit(const std::string& what) {
    std::lock_guard lk(mu);
    const TimePoint now = clock->Now();
    if (now < blocked_until) {
      return ResourceExhaustedError(fmt::format("digitalocean: {}: rate limited by DigitalOcean until {}",
                                                what, FormatTime(blocked_until)));
    }
    PruneLocked(now);
    const TimePoint free = WindowFreeLocked(now);
    if (free > now) {
      return ResourceExhaustedError(fmt::format(
          "digitalocean: {}: own request budget ({} per minute, {} per hour) spent until {}", what,
          options.per_minute, options.per_hour, FormatTime(free)));
    }
    sends.push_back(now);
    ++requests_sent;
    return Status::Ok();
  }

  // Reads the rate-limit headers; blocks the client on 429 or remaining 0.
  void ObserveRateLimit(const http::HttpResponse& r) {
    const auto limit = HeaderInt(r, "ratelimit-limit");
    const auto remaining = HeaderInt(r, "ratelimit-remaining");
    const auto reset = HeaderInt(r, "ratelimit-reset");
    const auto retry_after = HeaderInt(r, "retry-after");
    RateLimit snapshot;
    bool seen = limit || remaining || reset;
    {
      std::lock_guard lk(mu);
      const TimePoint now = clock->Now();
      if (limit) rate_limit.limit = *limit;
      if (remaining) rate_limit.remaining = *remaining;
      if (reset) rate_limit.reset = TimePoint(std::chrono::seconds(*reset));
      const bool reset_ahead = reset && rate_limit.reset > now;
      TimePoint until{};
      if (r.status == 429) {
        if (retry_after && *retry_after >= 0) {
          until = now + std::chrono::seconds(*retry_after);
        } else if (reset_ahead) {
          until = rate_limit.reset;
        } else {
          until = now + options.default_retry_after;
        }
      } else if (remaining && *remaining <= 0 && reset_ahead) {
        until = rate_limit.reset;
      }
      if (until > now) {
        until = std::min<TimePoint>(until, now + kMaxBlock);
        blocked_until = std::max(blocked_until, until);
      }
      snapshot = rate_limit;
    }
    if (seen && observer.on_rate_limit) observer.on_rate_limit(snapshot);
  }

  Status ErrorFromResponse(const std::string& what, const http::HttpResponse& r) const {
    const json j = json::parse(r.body, nullptr, false);
    std::string id = Str(j, "id");
    std::string message = Str(j, "message");
    std::string request_id = Str(j, "request_id");
    if (request_id.empty()) request_id = r.Header("x-request-id");
    if (j.is_discarded() || !j.is_object()) {
      message = r.body.size() > kMaxErrorBody ? r.body.substr(0, kMaxErrorBody) + "..." : r.body;
    }
    if (id.empty() && message.empty()) message = "(no error body)";
    std::string text = fmt::format("digitalocean: {}: HTTP {} {}{}{}", what, r.status, id,
                                   id.empty() ? "" : ": ", message);
    if (!request_id.empty()) text += fmt::format(" (request_id {})", request_id);
    if (r.status == 429) {
      std::lock_guard lk(mu);
      text += fmt::format("; rate limited by DigitalOcean until {}", FormatTime(blocked_until));
    }
    const StatusCode code = http::HttpClient::StatusFromHttp(r.status, "").code();
    return Status(code == StatusCode::kOk ? StatusCode::kInternal : code, Scrub(text));
  }

  // One logical call. `idempotent` calls are retried on 5xx and transport errors. Returns the
  // response when its status is < 400, else the mapped error.
  StatusOr<http::HttpResponse> Send(const std::string& method, const std::string& path,
                                    const std::string& body, bool idempotent) {
    const std::string what = method + " " + path;
    const int attempts = idempotent ? std::max(1, options.max_attempts) : 1;
    Backoff backoff(options.backoff_base, options.backoff_cap,
                    [r = random] { return r->NextDouble(); });
    Status last;
    for (int attempt = 0; attempt < attempts; ++attempt) {
      RF_RETURN_IF_ERROR(Admit(what));
      http::HttpRequest req;
      req.method = method;
      req.path_and_query = path;
      req.timeout = options.timeout;
      req.headers.emplace_back("Accept", "application/json");
      if (!body.empty()) {
        req.headers.emplace_back("Content-Type", "application/json");
        req.body = body;
      }
      auto response = http.Do(req);
      if (!response.ok()) {
        if (observer.on_response) observer.on_response(0);
        const Status& s = response.error();
        std::string text = fmt::format("digitalocean: {}: {}", what, s.message());
        if (!idempotent) {
          text += " (the request may have reached DigitalOcean; list by tag before creating again)";
        }
        last = Status(s.code(), Scrub(text));
        if (s.code() != StatusCode::kUnavailable && s.code() != StatusCode::kDeadlineExceeded) {
          return last;
        }
      } else {
        const auto& r = *response;
        if (observer.on_response) observer.on_response(r.status);
        ObserveRateLimit(r);
        if (r.status < 400) return std::move(*response);
        last = ErrorFromResponse(what, r);
        if (r.status < 500) return last;  // 4xx (429 included): retrying now will not help
      }
      if (attempt + 1 >= attempts) break;
      sleep(backoff.Delay(attempt));
    }
    if (attempts > 1) return last.WithContext(fmt::format("after {} attempts", attempts));
    return last;
  }

  // GETs every page of `base` (which may already hold a query) and returns the items under
  // `key`.
  StatusOr<std::vector<json>> ListAll(const std::string& base, const std::string& key) {
    const int per_page = std::clamp(options.per_page, 1, 200);
    const char sep = base.find('?') == std::string::npos ? '?' : '&';
    std::vector<json> out;
    for (int page = 1; page <= kMaxPages; ++page) {
      const std::string path = fmt::format("{}{}page={}&per_page={}", base, sep, page, per_page);
      RF_ASSIGN_OR_RETURN(auto r, Send("GET", path, "", true));
      json j = json::parse(r.body, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains(key) || !j[key].is_array()) {
        return UnavailableError(
            Scrub(fmt::format("digitalocean: GET {}: response has no \"{}\" array", path, key)));
      }
      const std::size_t got = j[key].size();
      for (auto& item : j[key]) out.push_back(std::move(item));
      std::optional<int64_t> total;
      if (auto m = j.find("meta"); m != j.end() && m->is_object()) {
        if (auto t = m->find("total"); t != m->end() && t->is_number_integer()) {
          total = t->get<int64_t>();
        }
      }
      bool has_next = false;
      if (auto l = j.find("links"); l != j.end() && l->is_object()) {
        if (auto p = l->find("pages"); p != l->end() && p->is_object()) {
          has_next = p->contains("next");
        }
      }
      if (total && static_cast<int64_t>(out.size()) >= *total) return out;
      if (!has_next || got == 0) return out;
    }
    return UnavailableError(fmt::format("digitalocean: GET {}: more than {} pages", base, kMaxPages));
  }
};

Client::Client(ClientOptions options, std::shared_ptr<const Clock> clock,
               std::function<void(std::chrono::milliseconds)> sleep,
               std::shared_ptr<RandomSource> random, ClientObserver observer)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(clock), std::move(sleep),
                                   std::move(random), std::move(observer))) {}

Client::~Client() = default;

StatusOr<Droplet> Client::CreateDroplet(const CreateDropletRequest& request) {
  json body = {{"name", request.name}, {"size", request.size}};
  if (!request.region.empty()) body["region"] = request.region;
  body["image"] = IdOrString(request.image);
  json keys = json::array();
  for (const auto& k : request.ssh_keys) keys.push_back(IdOrString(k));
  body["ssh_keys"] = std::move(keys);
  body["tags"] = request.tags;
  if (!request.user_data.empty()) body["user_data"] = request.user_data;
  if (!request.vpc_uuid.empty()) body["vpc_uuid"] = request.vpc_uuid;
  body["monitoring"] = request.monitoring;
  body["ipv6"] = request.ipv6;
  RF_ASSIGN_OR_RETURN(auto r, impl_->Send("POST", "/v2/droplets", body.dump(), false));
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("droplet") || !j["droplet"].is_object()) {
    return UnavailableError(
        "digitalocean: POST /v2/droplets: the 2xx response has no droplet object (the droplet may "
        "exist; list by tag before creating again)");
  }
  return ParseDroplet(j["droplet"]);
}

StatusOr<std::vector<Droplet>> Client::ListDroplets(const std::string& tag) {
  RF_ASSIGN_OR_RETURN(auto items,
                      impl_->ListAll("/v2/droplets?tag_name=" + http::PercentEncode(tag), "droplets"));
  std::vector<Droplet> out;
  out.reserve(items.size());
  for (const auto& d : items) out.push_back(ParseDroplet(d));
  return out;
}

StatusOr<Droplet> Client::GetDroplet(int64_t id) {
  const std::string path = fmt::format("/v2/droplets/{}", id);
  RF_ASSIGN_OR_RETURN(auto r, impl_->Send("GET", path, "", true));
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("droplet") || !j["droplet"].is_object()) {
    return UnavailableError(fmt::format("digitalocean: GET {}: response has no droplet object", path));
  }
  return ParseDroplet(j["droplet"]);
}

Status Client::DeleteDroplet(int64_t id) {
  auto r = impl_->Send("DELETE", fmt::format("/v2/droplets/{}", id), "", true);
  if (!r.ok() && r.error().code() == StatusCode::kNotFound) return Status::Ok();
  return r.status();
}

StatusOr<std::vector<Size>> Client::ListSizes() {
  RF_ASSIGN_OR_RETURN(auto items, impl_->ListAll("/v2/sizes", "sizes"));
  std::vector<Size> out;
  out.reserve(items.size());
  for (const auto& s : items) out.push_back(ParseSize(s));
  return out;
}

RateLimit Client::rate_limit() const {
  std::lock_guard lk(impl_->mu);
  return impl_->rate_limit;
}

TimePoint Client::RetryAfter() const { return impl_->RetryAfter(); }

int64_t Client::requests_sent() const { return impl_->requests_sent.load(); }

std::string TagPart(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_') {
      out += static_cast<char>(c);
    } else if (c == '.') {
      out += '_';
    } else {
      out += '-';  // not in a Kubernetes name; never produced for valid input
    }
  }
  return out.size() > 255 ? out.substr(0, 255) : out;
}

std::string ManagedByTag(const std::string& operator_id) {
  return "redisfleet-managed-by:" + TagPart(operator_id);
}

std::string PoolTag(const std::string& namespace_, const std::string& name) {
  return "redisfleet-pool:" + TagPart(namespace_) + ":" + TagPart(name);
}

}  // namespace redisfleet::digitalocean
