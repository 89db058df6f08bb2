// Heroku Platform API client. Status codes of failed calls (the HTTP status of the last attempt):
//   401 kUnauthenticated, 403 kPermissionDenied, 404/410 kNotFound, 400/406/416/422
//   kInvalidArgument, 409 kConflict, 429 kResourceExhausted (after the retries), 5xx
//   kUnavailable (after the retries); transport failures kUnavailable, timeouts
//   kDeadlineExceeded. Messages read "heroku <METHOD> <path>: HTTP <status> <id>: <message>".

#include "providers/heroku/heroku_client.h"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/backoff.h"
#include "common/redact.h"

namespace redisfleet::heroku {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// Path segments: app and add-on names/ids match [A-Za-z0-9_-]+ (schema patterns); anything
// else is percent-encoded so a caller can't smuggle a path or query.
std::string Seg(std::string_view s) { return http::PercentEncode(s, "-_.:"); }

StatusOr<Addon> ParseAddon(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return UnavailableError("heroku: add-on is not a JSON object");
  Addon a;
  a.id = Str(j, "id");
  a.name = Str(j, "name");
  a.state = Str(j, "state");
  if (j.contains("app")) a.app = Str(j["app"], "name");
  if (j.contains("plan")) a.plan = Str(j["plan"], "name");
  if (j.contains("addon_service")) a.addon_service = Str(j["addon_service"], "name");
  if (auto it = j.find("config_vars"); it != j.end() && it->is_array()) {
    for (const auto& v : *it) {
      if (v.is_string()) a.config_vars.push_back(v.get<std::string>());
    }
  }
  if (a.id.empty() && a.name.empty()) return UnavailableError("heroku: add-on without id or name");
  return a;
}

// Heroku Redis plan limits. Source: Heroku Dev Center, "Heroku Redis Technical
// Characterization" (https://devcenter.heroku.com/articles/heroku-redis-technical-characterization,
// table "Performance characteristics", RAM and Connection Limit columns; premium-N, private-N
// and shield-N share a row). `mini` replaced `hobby-dev` with the same 25 MB / 20 connections
// (Dev Center "Heroku Data for Redis" uses mini as the entry plan). MB in that table are taken
// as MiB; GB as 1024 MiB. Plans not in the table (e.g. premium-6, premium-8) are unknown.
struct KnownPlan {
  std::string_view tier_suffix;  // the part after "premium-" / "private-" / "shield-"
  PlanCapacity capacity;
};
constexpr KnownPlan kMultiTenant[] = {
    {"0", {50, 40}},   {"1", {100, 80}},    {"2", {250, 200}},
    {"3", {500, 400}}, {"4", {750, 700}},   {"5", {1024, 1000}},
};
constexpr KnownPlan kSingleTenant[] = {
    {"7", {7 * 1024, 10000}},   {"9", {10 * 1024, 25000}},   {"10", {25 * 1024, 40000}},
    {"12", {50 * 1024, 65000}}, {"14", {100 * 1024, 65000}},
};

std::optional<std::chrono::milliseconds> RetryAfter(const http::HttpResponse& r) {
  const std::string v = r.Header("Retry-After");
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  const double seconds = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || seconds < 0) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

}  // namespace

std::string ShortPlanName(std::string_view plan_name) {
  const auto colon = plan_name.find(':');
  return std::string(colon == std::string_view::npos ? plan_name : plan_name.substr(colon + 1));
}

std::string Addon::ShortPlan() const { return ShortPlanName(plan); }

std::optional<PlanCapacity> KnownPlanCapacity(std::string_view plan_name) {
  const auto colon = plan_name.find(':');
  if (colon != std::string_view::npos && plan_name.substr(0, colon) != "heroku-redis") {
    return std::nullopt;
  }
  const std::string p = ShortPlanName(plan_name);
  if (p == "mini" || p == "hobby-dev") return PlanCapacity{25, 20};
  auto suffix_of = [&](std::string_view prefix) -> std::optional<std::string> {
    if (p.rfind(prefix, 0) == 0) return p.substr(prefix.size());
    return std::nullopt;
  };
  if (auto s = suffix_of("premium-")) {
    for (const auto& k : kMultiTenant) {
      if (k.tier_suffix == *s) return k.capacity;
    }
  }
  for (std::string_view prefix : {"premium-", "private-", "shield-"}) {
    if (auto s = suffix_of(prefix)) {
      for (const auto& k : kSingleTenant) {
        if (k.tier_suffix == *s) return k.capacity;
      }
    }
  }
  return std::nullopt;
}

CatalogFromHeroku ToCatalog(const std::vector<HerokuPlan>& plans) {
  CatalogFromHeroku out;
  for (const auto& p : plans) {
    if (p.price_unit != "month") {
      out.unknown.push_back(fmt::format("{} (price unit '{}', not month)", p.name, p.price_unit));
      continue;
    }
    auto cap = KnownPlanCapacity(p.name);
    if (!cap) {
      out.unknown.push_back(fmt::format("{} (capacity unknown)", p.name));
      continue;
    }
    api::Plan plan;
    plan.name = ShortPlanName(p.name);
    plan.memory_mib = cap->memory_mib;
    plan.max_clients = cap->max_clients;
    plan.monthly_cost = static_cast<double>(p.price_cents) / 100.0;
    out.plans.push_back(std::move(plan));
  }
  std::sort(out.plans.begin(), out.plans.end(), [](const api::Plan& a, const api::Plan& b) {
    return a.monthly_cost != b.monthly_cost ? a.monthly_cost < b.monthly_cost : a.name < b.name;
  });
  return out;
}

HerokuClient::HerokuClient(HerokuClientOptions options, Clock& clock,
                           std::shared_ptr<RandomSource> random)
    : options_(std::move(options)),
      clock_(clock),
      random_(random ? std::move(random) : std::make_shared<CryptoRandom>()),
      http_([this] {
        http::HttpClientOptions h;
        h.base_url = options_.api_url;
        h.bearer_token = options_.api_key;
        h.user_agent = options_.user_agent;
        h.connect_timeout = options_.connect_timeout;
        h.ca_file = options_.ca_file;
        return h;
      }()) {}

std::string HerokuClient::NewRequestId() {
  std::string h = random_->Hex(16);
  h[12] = '4';  // UUID v4 layout
  return fmt::format("{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4),
                     h.substr(16, 4), h.substr(20));
}

std::string HerokuClient::Scrub(std::string text) const {
  if (!options_.api_key.empty()) {
    for (auto pos = text.find(options_.api_key); pos != std::string::npos;
         pos = text.find(options_.api_key, pos)) {
      text.replace(pos, options_.api_key.size(), kRedacted);
    }
  }
  return RedactSecrets(text);
}

Status HerokuClient::SleepFor(std::chrono::milliseconds d) {
  const TimePoint until = clock_.Now() + d;
  std::mutex mu;
  std::condition_variable cv;
  const std::size_t sub = clock_.Subscribe([&] {
    std::lock_guard lk(mu);
    cv.notify_all();
  });
  Status result;
  {
    std::unique_lock lk(mu);
    for (;;) {
      if (options_.stop && options_.stop()) {
        result = CancelledError("heroku: stopped while waiting");
        break;
      }
      const TimePoint now = clock_.Now();
      if (now >= until) break;
      cv.wait_for(lk, std::min<Duration>(until - now, std::chrono::milliseconds(50)));
    }
  }
  clock_.Unsubscribe(sub);
  return result;
}

Status HerokuClient::ErrorFromResponse(const Call& call, const http::HttpResponse& r) const {
  json j = json::parse(r.body, nullptr, false);
  std::string id = Str(j, "id");
  std::string message = Str(j, "message");
  if (id.empty() && message.empty()) message = "(no error body)";
  const std::string text =
      Scrub(fmt::format("heroku {} {}: {}{}{}", call.method, call.path, id, id.empty() ? "" : ": ",
                        message));
  return http::HttpClient::StatusFromHttp(r.status, text);
}

StatusOr<http::HttpResponse> HerokuClient::Send(const Call& call) {
  const auto& rp = options_.retry;
  const int attempts = std::max(1, rp.max_attempts);
  Status last;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    // Slow down when the pool runs low rather than burning it.
    const int64_t remaining = rate_limit_remaining_.load();
    if (rp.rate_limit_floor > 0 && remaining >= 0 && remaining < rp.rate_limit_floor) {
      const auto delay = std::chrono::milliseconds(rp.low_remaining_delay.count() *
                                                   (rp.rate_limit_floor - remaining) /
                                                   rp.rate_limit_floor);
      RF_RETURN_IF_ERROR(SleepFor(delay));
    }
    http::HttpRequest req;
    req.method = call.method;
    req.path_and_query = call.path;
    req.timeout = options_.timeout;
    req.headers.emplace_back("Accept", std::string(kAcceptV3));
    req.headers.emplace_back("Request-Id", NewRequestId());
    if (!call.range.empty()) req.headers.emplace_back("Range", call.range);
    if (!call.body.empty() || call.method == "PATCH" || call.method == "POST") {
      req.headers.emplace_back("Content-Type", "application/json");
      req.body = call.body;
    }
    ++requests_sent_;
    auto response = http_.Do(req);
    if (options_.on_response) options_.on_response(response.ok() ? response->status : 0);
    std::optional<std::chrono::milliseconds> wait;
    if (!response.ok()) {
      const Status& s = response.error();
      if (s.code() != StatusCode::kUnavailable) return Status(s.code(), Scrub(s.message()));
      last = Status(s.code(), Scrub(s.message()));
    } else {
      const auto& r = *response;
      const std::string rl = r.Header("RateLimit-Remaining");
      if (!rl.empty()) {
        char* end = nullptr;
        const long long v = std::strtoll(rl.c_str(), &end, 10);
        if (end != rl.c_str()) rate_limit_remaining_ = v;
      }
      if (r.status < 400) return *response;
      last = ErrorFromResponse(call, r);
      if (r.status == 429) {
        ++rate_limited_;
        wait = RetryAfter(r);
        if (wait) wait = std::min(*wait, rp.max_retry_after);
      } else if (r.status < 500) {
        return last;  // 4xx other than 429: retrying will not help
      } else {
        wait = RetryAfter(r);
      }
    }
    if (attempt + 1 >= attempts) break;
    RF_RETURN_IF_ERROR(SleepFor(wait ? *wait : Backoff(rp.backoff_base, rp.backoff_cap).Delay(attempt)));
  }
  return last.WithContext(fmt::format("after {} attempts", attempts));
}

StatusOr<Addon> HerokuClient::GetAddon(const std::string& app, const std::string& addon) {
  Call call{"GET",
            app.empty() ? "/addons/" + Seg(addon) : "/apps/" + Seg(app) + "/addons/" + Seg(addon),
            "", ""};
  RF_ASSIGN_OR_RETURN(auto r, Send(call));
  return ParseAddon(r.body);
}

StatusOr<Addon> HerokuClient::ChangePlan(const std::string& app, const std::string& addon,
                                         const std::string& plan) {
  const std::string full = plan.find(':') == std::string::npos
                               ? options_.default_addon_service + ":" + plan
                               : plan;
  Call call{"PATCH", "/apps/" + Seg(app) + "/addons/" + Seg(addon), json{{"plan", full}}.dump(),
            ""};
  RF_ASSIGN_OR_RETURN(auto r, Send(call));
  RF_ASSIGN_OR_RETURN(Addon a, ParseAddon(r.body));
  if (a.plan != full) {
    return FailedPreconditionError(fmt::format(
        "heroku PATCH {}: asked for plan {} but the add-on reports {}", call.path, full, a.plan));
  }
  if (a.state == kStateDeprovisioned) {
    return FailedPreconditionError(
        fmt::format("heroku PATCH {}: add-on {} is deprovisioned", call.path, a.name));
  }
  return a;
}

StatusOr<Addon> HerokuClient::WaitProvisioned(const std::string& app, const std::string& addon,
                                              TimePoint deadline) {
  Backoff backoff(options_.poll_base, options_.poll_cap);
  std::string last_state;
  for (int attempt = 0;; ++attempt) {
    RF_ASSIGN_OR_RETURN(Addon a, GetAddon(app, addon));
    if (a.state == kStateProvisioned) return a;
    if (a.state == kStateDeprovisioned) {
      return FailedPreconditionError(
          fmt::format("heroku: add-on {} of app {} is deprovisioned", a.name, app));
    }
    last_state = a.state;
    const TimePoint now = clock_.Now();
    if (now >= deadline) {
      return DeadlineExceededError(fmt::format(
          "heroku: add-on {} of app {} still '{}' at the deadline", a.name, app, last_state));
    }
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    RF_RETURN_IF_ERROR(SleepFor(std::min(backoff.Delay(attempt), remaining)));
  }
}

StatusOr<std::string> HerokuClient::GetConfigVar(const std::string& app, const std::string& name) {
  Call call{"GET", "/apps/" + Seg(app) + "/config-vars", "", ""};
  RF_ASSIGN_OR_RETURN(auto r, Send(call));
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return UnavailableError("heroku: config vars are not a JSON object");
  }
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) {
    return NotFoundError(fmt::format("heroku: app {} has no config var {}", app, name));
  }
  return it->get<std::string>();
}

StatusOr<std::vector<HerokuPlan>> HerokuClient::ListPlans(const std::string& service) {
  std::vector<HerokuPlan> out;
  Call call{"GET", "/addon-services/" + Seg(service) + "/plans", "",
            fmt::format("id ..; max={};", std::clamp(options_.page_size, 1, 1000))};
  constexpr int kMaxPages = 10000;
  for (int page = 0; page < kMaxPages; ++page) {
    RF_ASSIGN_OR_RETURN(auto r, Send(call));
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.is_array()) {
      return UnavailableError(fmt::format("heroku GET {}: plans are not a JSON array", call.path));
    }
    for (const auto& p : j) {
      HerokuPlan plan;
      plan.id = Str(p, "id");
      plan.name = Str(p, "name");
      plan.human_name = Str(p, "human_name");
      if (auto d = p.find("default"); d != p.end() && d->is_boolean()) plan.is_default = *d;
      if (auto price = p.find("price"); price != p.end() && price->is_object()) {
        if (auto c = price->find("cents"); c != price->end() && c->is_number_integer()) {
          plan.price_cents = c->get<int64_t>();
        }
        plan.price_unit = Str(*price, "unit");
      }
      out.push_back(std::move(plan));
    }
    if (r.status != 206) return out;
    const std::string next = r.Header("Next-Range");
    if (next.empty()) return out;  // 206 without Next-Range: nothing more to ask for
    if (next == call.range) {
      return UnavailableError(fmt::format("heroku GET {}: Next-Range does not advance", call.path));
    }
    call.range = next;
  }
  return UnavailableError(fmt::format("heroku GET {}: more than {} pages", call.path, kMaxPages));
}

StatusOr<int64_t> HerokuClient::GetRateLimitRemaining() {
  Call call{"GET", "/account/rate-limits", "", ""};
  RF_ASSIGN_OR_RETURN(auto r, Send(call));
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("remaining") || !j["remaining"].is_number_integer()) {
    return UnavailableError("heroku: rate-limits body has no remaining");
  }
  const int64_t v = j["remaining"].get<int64_t>();
  rate_limit_remaining_ = v;
  return v;
}

}  // namespace redisfleet::heroku
