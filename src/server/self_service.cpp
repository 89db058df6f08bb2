#include "server/self_service.h"

#include <charconv>
#include <chrono>
#include <map>
#include <optional>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/validation.h"

namespace redisfleet::server {
namespace {

using json = nlohmann::json;

constexpr std::size_t kBackstopBodyBytes = 64 * 1024;
constexpr std::string_view kInstancesPath = "/v1/instances";
constexpr int kNameAttempts = 5;
constexpr std::size_t kNameRandomChars = 10;

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string ErrorBody(std::string_view message) {
  return Dump(json{{"error", std::string(message)}});
}

// A DNS-1123 label: what a RedisInstance name can be. Anything else cannot exist, so it is
// answered like an absent name without asking the store.
bool IsInstanceName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s) {
    if (!alnum(c) && c != '-') return false;
  }
  return true;
}

// Service-side failures: retryable ones are 503, the rest 500. Never the client's fault.
int HttpStatusForBackendError(const Status& st) {
  switch (st.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kConflict:
    case StatusCode::kResourceExhausted:
    case StatusCode::kCancelled:
      return 503;
    default:
      return 500;
  }
}

// Reads the request body through `reader` and answers whether it stays within
// kSelfServiceMaxBodyBytes. Bodies up to kBackstopBodyBytes are read to the end (and dropped)
// so the connection stays usable; a larger declared Content-Length is refused without reading
// and a larger chunked body is read only up to that point (the caller then closes).
enum class BodyCheck { kFits, kTooLarge, kTooLargeUnread };

BodyCheck CheckBody(const httplib::Request& req, const httplib::ContentReader& reader) {
  const bool chunked =
      req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
  // Neither a length nor chunks: there is no body (curl -X POST, many scripts); reading would
  // wait for a close that never comes.
  if (!chunked && !req.has_header("Content-Length")) return BodyCheck::kFits;
  if (req.has_header("Content-Length")) {
    const std::string value = req.get_header_value("Content-Length");
    uint64_t length = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec != std::errc() || end != value.data() + value.size() || length > kBackstopBodyBytes) {
      return BodyCheck::kTooLargeUnread;
    }
  }
  std::size_t total = 0;
  const bool complete = reader([&total](const char*, std::size_t n) {
    total += n;
    return total <= kBackstopBodyBytes;
  });
  if (!complete) return BodyCheck::kTooLargeUnread;
  return total <= kSelfServiceMaxBodyBytes ? BodyCheck::kFits : BodyCheck::kTooLarge;
}

void SetCommonHeaders(httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
}

void SendJson(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  SetCommonHeaders(res);
  if (status != 204) res.set_content(body, "application/json");
}

// `unread`: part of the body may still be on the connection, so it must not be reused.
void SendTooLarge(httplib::Response& res, bool unread = false) {
  if (unread) res.set_header("Connection", "close");
  SendJson(res, 413,
           ErrorBody("request body too large (limit " + std::to_string(kSelfServiceMaxBodyBytes) +
                     " bytes)"));
}

httplib::Server::Handler MethodNotAllowed(std::string allow) {
  return [allow = std::move(allow)](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Allow", allow);
    SendJson(res, 405, ErrorBody("method " + req.method + " not allowed (allowed: " + allow + ")"));
  };
}

bool IsGone(const api::RedisInstance& ri, TimePoint now) {
  if (ri.metadata.deleting()) return true;
  if (ri.status.phase == api::Phase::kExpired || ri.status.phase == api::Phase::kDeleting) {
    return true;
  }
  return ri.status.expires_at.has_value() && *ri.status.expires_at <= now;
}

std::optional<TimePoint> ExpiresAt(const api::RedisInstance& ri) {
  if (ri.status.expires_at) return ri.status.expires_at;
  if (ri.spec.ttl_seconds > 0 && ri.metadata.creation_timestamp) {
    return *ri.metadata.creation_timestamp + std::chrono::seconds(ri.spec.ttl_seconds);
  }
  return std::nullopt;
}

}  // namespace

SelfService::SelfService(std::shared_ptr<store::ObjectStore> store,
                         std::shared_ptr<store::SecretStore> secrets,
                         std::shared_ptr<InstanceRequests> requests,
                         std::shared_ptr<const Clock> clock, std::shared_ptr<RandomSource> random,
                         std::shared_ptr<Logger> logger, SelfServiceOptions options)
    : store_(std::move(store)),
      secrets_(std::move(secrets)),
      requests_(std::move(requests)),
      clock_(clock ? std::move(clock) : std::make_shared<RealClock>()),
      random_(random ? std::move(random) : std::make_shared<CryptoRandom>()),
      logger_(logger ? std::move(logger) : Logger::Null()),
      options_(std::move(options)) {}

std::string SelfService::RequesterOf(const httplib::Request& req) const {
  if (options_.requester_of) return options_.requester_of(req);
  return req.remote_addr;
}

void SelfService::Register(httplib::Server& server) {
  server.set_payload_max_length(kBackstopBodyBytes);

  const std::string collection(kInstancesPath);
  const std::string item = collection + "/([^/]+)";

  server.Post(collection, [this](const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& reader) {
    if (const BodyCheck body = CheckBody(req, reader); body != BodyCheck::kFits) {
      return SendTooLarge(res, body == BodyCheck::kTooLargeUnread);
    }
    const Reply r = Create(RequesterOf(req));
    if (!r.location.empty()) res.set_header("Location", r.location);
    SendJson(res, r.status, r.body);
  });
  server.Get(item, [this](const httplib::Request& req, httplib::Response& res) {
    if (req.body.size() > kSelfServiceMaxBodyBytes) return SendTooLarge(res);
    const Reply r = Show(RequesterOf(req), req.matches[1].str());
    SendJson(res, r.status, r.body);
  });
  server.Delete(item, [this](const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader& reader) {
    if (const BodyCheck body = CheckBody(req, reader); body != BodyCheck::kFits) {
      return SendTooLarge(res, body == BodyCheck::kTooLargeUnread);
    }
    const Reply r = Remove(RequesterOf(req), req.matches[1].str());
    SendJson(res, r.status, r.body);
  });
  server.Get("/", [](const httplib::Request& req, httplib::Response& res) {
    if (req.body.size() > kSelfServiceMaxBodyBytes) return SendTooLarge(res);
    res.status = 200;
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                   "connect-src 'self'; base-uri 'none'; form-action 'none'; "
                   "frame-ancestors 'none'");
    const std::string_view page = SelfServicePage();
    res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });

  const auto not_allowed_collection = MethodNotAllowed("POST");
  server.Get(collection, not_allowed_collection);
  server.Put(collection, not_allowed_collection);
  server.Patch(collection, not_allowed_collection);
  server.Delete(collection, not_allowed_collection);
  server.Options(collection, not_allowed_collection);
  const auto not_allowed_item = MethodNotAllowed("GET, DELETE");
  server.Post(item, not_allowed_item);
  server.Put(item, not_allowed_item);
  server.Patch(item, not_allowed_item);
  server.Options(item, not_allowed_item);
  const auto not_allowed_page = MethodNotAllowed("GET");
  server.Post("/", not_allowed_page);
  server.Put("/", not_allowed_page);
  server.Patch("/", not_allowed_page);
  server.Delete("/", not_allowed_page);
  server.Options("/", not_allowed_page);
}

std::string SelfService::NewName() {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  // 252 = 7 * 36: bytes at or above it are dropped so every character is equally likely.
  static constexpr uint8_t kLimit = 252;
  std::string name = "ss-";
  while (name.size() < 3 + kNameRandomChars) {
    uint8_t buf[16];
    random_->Fill(buf, sizeof(buf));
    for (uint8_t b : buf) {
      if (b >= kLimit) continue;
      name += kAlphabet[b % kAlphabet.size()];
      if (name.size() == 3 + kNameRandomChars) break;
    }
  }
  return name;
}

StatusOr<api::Quota> SelfService::PoolQuota() {
  const api::Key key{options_.namespace_, options_.pool};
  auto got = store_->Get(api::Kind::kHostPool, key);
  if (!got) {
    // The embedded pool exists without a resource (see api::kEmbeddedPoolName): API defaults.
    if (got.error().code() == StatusCode::kNotFound && options_.pool == api::kEmbeddedPoolName) {
      return api::Quota{};
    }
    return got.error();
  }
  const auto* pool = std::get_if<api::HostPool>(&*got);
  if (pool == nullptr) return InternalError("store returned another kind for HostPool " + key.ToString());
  if (pool->metadata.deleting()) return NotFoundError("HostPool " + key.ToString() + " is being deleted");
  return pool->spec.quota;
}

SelfService::Reply SelfService::Create(const std::string& requester) {
  if (requester.empty()) return {400, ErrorBody("cannot tell who is asking"), ""};
  std::lock_guard<std::mutex> lock(create_mu_);

  auto quota = PoolQuota();
  if (!quota) {
    logger_->Warn("self-service unavailable: no usable host pool",
                  {{"pool", options_.namespace_ + "/" + options_.pool},
                   {"error", quota.error().ToString()}});
    if (quota.error().code() == StatusCode::kNotFound) {
      return {503, ErrorBody("self-service is unavailable: host pool " + options_.pool +
                             " does not exist"), ""};
    }
    return {503, ErrorBody("self-service is unavailable, try again later"), ""};
  }

  auto listed = store_->List(api::Kind::kRedisInstance);
  if (!listed) {
    logger_->Warn("self-service cannot list instances", {{"error", listed.error().ToString()}});
    return {503, ErrorBody("self-service is unavailable, try again later"), ""};
  }
  const TimePoint now = clock_->Now();
  int64_t live = 0;
  for (const api::Object& o : *listed) {
    const auto* ri = std::get_if<api::RedisInstance>(&o);
    // The same scope the RedisInstance reconciler enforces: this requester in this pool.
    if (ri == nullptr || ri->spec.requester != requester ||
        ri->metadata.namespace_ != options_.namespace_ || ri->spec.host_pool != options_.pool ||
        IsGone(*ri, now)) {
      continue;
    }
    ++live;
  }
  const int64_t max = quota->max_instances_per_requester;
  if (live >= max) {
    logger_->Info("self-service quota exceeded",
                  {{"requester", requester}, {"instances", live}, {"max", max}});
    return {429, ErrorBody("quota exceeded: " + std::to_string(live) + " of " +
                           std::to_string(max) + " instances for " + requester), ""};
  }

  api::RedisInstance ri;
  ri.metadata.namespace_ = options_.namespace_;
  ri.metadata.labels[std::string(kLabelSelfService)] = "true";
  ri.spec.host_pool = options_.pool;
  ri.spec.memory_mib = options_.memory_mib;
  ri.spec.max_clients = options_.max_clients;
  ri.spec.ttl_seconds = quota->default_ttl_seconds;
  ri.spec.requester = requester;

  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    ri.metadata.name = NewName();
    if (attempt == 0) {
      api::Object candidate = ri;
      api::ApplyDefaults(candidate);
      const std::vector<api::Problem> problems = api::Validate(candidate);
      if (!problems.empty()) {
        for (const api::Problem& p : problems) {
          logger_->Error("self-service options make an invalid RedisInstance",
                         {{"problem", p.ToString()}});
        }
        return {500, ErrorBody("self-service is misconfigured"), ""};
      }
      ri = std::get<api::RedisInstance>(std::move(candidate));
    }
    const api::Key key = ri.metadata.key();
    const Status st = requests_->Create(ri);
    if (st.ok()) {
      logger_->Info("self-service instance requested",
                    {{"instance", key.ToString()}, {"requester", requester},
                     {"pool", options_.pool}, {"ttl_seconds", ri.spec.ttl_seconds}});
      return {202, Dump(json{{"name", ri.metadata.name}, {"status", "Pending"}}),
              std::string(kInstancesPath) + "/" + ri.metadata.name};
    }
    if (st.code() == StatusCode::kAlreadyExists) continue;
    logger_->Warn("self-service cannot create instance",
                  {{"instance", key.ToString()}, {"requester", requester},
                   {"error", st.ToString()}});
    return {HttpStatusForBackendError(st), ErrorBody("cannot create the instance, try again later"),
            ""};
  }
  logger_->Error("self-service found no free instance name", {{"attempts", kNameAttempts}});
  return {500, ErrorBody("cannot create the instance, try again later"), ""};
}

StatusOr<api::RedisInstance> SelfService::Owned(const std::string& requester,
                                                const std::string& name) {
  const api::Key key{options_.namespace_, name};
  if (requester.empty() || !IsInstanceName(name)) return NotFoundError("not found");
  auto got = store_->Get(api::Kind::kRedisInstance, key);
  if (!got) return got.error();
  auto* ri = std::get_if<api::RedisInstance>(&*got);
  if (ri == nullptr) return NotFoundError("not found");
  const auto label = ri->metadata.labels.find(std::string(kLabelSelfService));
  if (label == ri->metadata.labels.end() || label->second != "true" ||
      ri->spec.requester != requester) {
    return NotFoundError("not found");
  }
  return std::move(*ri);
}

SelfService::Reply SelfService::NotOwnedReply(const Status& error, const std::string& name) const {
  if (error.code() == StatusCode::kNotFound) {
    return {404, ErrorBody("instance " + name + " not found"), ""};
  }
  logger_->Warn("self-service cannot read instance",
                {{"instance", options_.namespace_ + "/" + name}, {"error", error.ToString()}});
  return {HttpStatusForBackendError(error), ErrorBody("try again later"), ""};
}

SelfService::Reply SelfService::Show(const std::string& requester, const std::string& name) {
  auto owned = Owned(requester, name);
  if (!owned) return NotOwnedReply(owned.error(), name);
  const api::RedisInstance& ri = *owned;
  const api::Phase phase = ri.metadata.deleting() ? api::Phase::kDeleting : ri.status.phase;
  json pending{{"name", ri.metadata.name}, {"phase", std::string(api::EnumName(phase))}};
  if (const api::Condition* ready = api::FindCondition(ri.status.conditions, "Ready");
      ready != nullptr && !ready->message.empty() && phase != api::Phase::kReady) {
    pending["message"] = ready->message;
  }
  if (phase != api::Phase::kReady || ri.status.endpoint.port <= 0 ||
      (ri.status.endpoint.host.empty() && options_.public_host.empty())) {
    return {202, Dump(pending), ""};
  }

  auto connection = secrets_->ReadConnection(ri.metadata.key());
  std::string password;
  if (connection) {
    auto it = connection->find("password");
    if (it != connection->end()) password = it->second;
  } else if (connection.error().code() != StatusCode::kNotFound) {
    logger_->Warn("self-service cannot read connection secret",
                  {{"instance", ri.metadata.key().ToString()},
                   {"error", connection.error().ToString()}});
    return {HttpStatusForBackendError(connection.error()), ErrorBody("try again later"), ""};
  }
  if (password.empty()) {
    pending["message"] = "waiting for the connection details";
    return {202, Dump(pending), ""};
  }

  const std::string host =
      options_.public_host.empty() ? ri.status.endpoint.host : options_.public_host;
  const int64_t port = ri.status.endpoint.port;
  json ready{{"name", ri.metadata.name},
             {"phase", "Ready"},
             {"host", host},
             {"port", port},
             {"password", password},
             {"expiresAt", nullptr},
             {"redisCli", "redis-cli -h " + host + " -p " + std::to_string(port) + " -a " + password}};
  if (const auto expires = ExpiresAt(ri)) ready["expiresAt"] = FormatTime(*expires);
  return {200, Dump(ready), ""};
}

SelfService::Reply SelfService::Remove(const std::string& requester, const std::string& name) {
  auto owned = Owned(requester, name);
  if (!owned) return NotOwnedReply(owned.error(), name);
  const api::Key key = owned->metadata.key();
  const Status st = requests_->Delete(key);
  if (st.code() == StatusCode::kNotFound) {
    return {404, ErrorBody("instance " + name + " not found"), ""};
  }
  if (!st.ok()) {
    logger_->Warn("self-service cannot delete instance",
                  {{"instance", key.ToString()}, {"error", st.ToString()}});
    return {HttpStatusForBackendError(st), ErrorBody("cannot delete the instance, try again later"),
            ""};
  }
  logger_->Info("self-service instance deletion requested",
                {{"instance", key.ToString()}, {"requester", requester}});
  return {204, "", ""};
}

}  // namespace redisfleet::server
