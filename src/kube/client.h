#pragma once
// A Kubernetes REST client for JSON objects (reference 4.1-4.7): get, paged list, create,
// update, merge patch, status update, delete and watch on any resource path, with the API's
// Status bodies mapped to StatusCodes and a client-side token-bucket rate limit.
//
// Error mapping (every call): 404 NotFound; 409 AlreadyExists (reason AlreadyExists) or
// Conflict; 410 Expired/Gone is kFailedPrecondition (see IsExpired: relist from scratch);
// 400/415/422 InvalidArgument (422 lists the causes' field paths); 401 Unauthenticated;
// 403 PermissionDenied; 429 is retried after Retry-After (header or details.retryAfterSeconds)
// up to Options::max_retries times, then ResourceExhausted; 5xx and transport failures
// Unavailable; timeouts DeadlineExceeded. Messages read "<VERB> <path>: <reason>: <message>"
// and never contain the bearer token.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "http/http_client.h"
#include "kube/config.h"
#include "kube/rate_limiter.h"

namespace redisfleet::kube {

// A resource path: /api/v1/... for the core group ("" group), /apis/G/V/... otherwise.
// An empty namespace_name means cluster-scoped, or all namespaces for a collection.
struct ResourcePath {
  std::string group{};
  std::string version{};
  std::string namespace_name{};
  std::string plural{};
  std::string name{};         // empty: the collection
  std::string subresource{};  // "status"; needs a name

  ResourcePath InNamespace(std::string ns) const;
  ResourcePath Named(std::string object_name) const;
  ResourcePath Sub(std::string sub) const;
  ResourcePath Collection() const;  // without name and subresource
  // "/apis/redisfleet.io/v1alpha1/namespaces/default/redisinstances/foo/status" (segments
  // percent-encoded).
  std::string Path() const;
};

struct ListOptions {
  std::string label_selector{};
  std::string field_selector{};
  std::int64_t limit = 500;       // page size; 0 = no paging
  std::string continue_token{};     // ListPage only
  std::string resource_version{};   // "" = most recent (quorum read); "0" = any
};

struct ListPage {
  std::vector<nlohmann::json> items{};  // each with kind/apiVersion filled in from the list kind
  std::string resource_version{};
  std::string continue_token{};  // "" on the last page
};

struct ListResult {
  std::vector<nlohmann::json> items{};
  std::string resource_version{};  // of the first page: watch from here
};

struct DeleteOptions {
  std::string precondition_uid{};               // "" = none; a mismatch is Conflict
  std::string precondition_resource_version{};  // "" = none
  std::string propagation_policy{};             // "", "Background", "Foreground", "Orphan"
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark };
std::string_view WatchEventTypeName(WatchEventType type);

struct WatchOptions {
  std::string resource_version{};  // "" = start at the most recent (no replay)
  bool allow_watch_bookmarks = true;
  std::chrono::seconds timeout{300};  // server-side timeoutSeconds; the stream then ends OK
  std::string label_selector{};
  std::string field_selector{};
};

// Called for every event, on the calling thread, in stream order.
using WatchCallback = std::function<void(WatchEventType type, const nlohmann::json& object)>;

// True for the error a 410 Expired/Gone (list continue token or watch ERROR event) becomes:
// the caller must relist from scratch.
inline bool IsExpired(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition;
}

// Thread-safe: calls may run concurrently from many threads and share one rate limit.
// Starts no threads.
class KubeClient {
 public:
  struct Options {
    RestConfig config;
    double qps = 5;   // --kube-qps (client-go's default); <= 0 disables the limit
    int burst = 10;   // --kube-burst
    int max_retries = 5;  // for 429 (and 5xx with Retry-After)
    std::chrono::milliseconds request_timeout{30000};
    std::chrono::seconds token_reload{60};  // re-read config.token_file this often
    std::string user_agent = "redis-fleet/0.1";
  };

  // `clock` must outlive the client.
  KubeClient(Options options, const Clock& clock);

  StatusOr<nlohmann::json> Get(const ResourcePath& object);
  // One page (honours options.limit and options.continue_token).
  StatusOr<ListPage> ListOnePage(const ResourcePath& collection, const ListOptions& options);
  // Every page; the resourceVersion is that of the first page. A continue token that expires
  // mid-way is IsExpired: list again.
  StatusOr<ListResult> List(const ResourcePath& collection, const ListOptions& options = {});
  // POST to the collection; returns the created object (201).
  StatusOr<nlohmann::json> Create(const ResourcePath& collection, const nlohmann::json& object);
  // PUT the whole object; `object.metadata.resourceVersion` makes it conditional (custom
  // resources require it: 422 otherwise). Conflict when stale.
  StatusOr<nlohmann::json> Update(const ResourcePath& object_path, const nlohmann::json& object);
  // PATCH application/merge-patch+json (RFC 7386).
  StatusOr<nlohmann::json> MergePatch(const ResourcePath& object_path, const nlohmann::json& patch);
  // PUT .../status: only `status` is taken from `object`; conditional on its resourceVersion.
  StatusOr<nlohmann::json> UpdateStatus(const ResourcePath& object_path, const nlohmann::json& object);
  // DELETE; returns the body: a Status (deleted at once) or the object (finalizers pending,
  // deletionTimestamp set).
  StatusOr<nlohmann::json> Delete(const ResourcePath& object_path, const DeleteOptions& options = {});

  // Streams events of `collection` to `callback` until the server ends the stream (OK: watch
  // again from the last resourceVersion seen, bookmarks included), `stop` returns true
  // (Cancelled; polled at least every 50 ms), an ERROR event arrives (410 Expired/Gone is
  // IsExpired: relist; others mapped as above) or the transport fails. Takes one rate-limit
  // token for the request; events take none. request_timeout does not apply: the stream may
  // last options.timeout plus a minute.
  Status Watch(const ResourcePath& collection, const WatchOptions& options,
               const WatchCallback& callback, const std::function<bool()>& stop);

  const RestConfig& config() const { return options_.config; }
  TokenBucket& rate_limiter() { return limiter_; }

  // Maps an API error response (HTTP status and Status body) to a Status; exposed for tests
  // and for code that reads a watch ERROR object.
  static Status StatusFromApi(long http_status, const nlohmann::json& body, std::string_view what);

 private:
  struct Call {
    std::string method;
    std::string path_and_query;
    std::string content_type;
    std::string body;
  };
  StatusOr<nlohmann::json> Do(const Call& call);
  std::string Token();
  Status Scrub(Status status);

  Options options_;
  const Clock& clock_;
  http::HttpClient http_;
  TokenBucket limiter_;
  std::mutex token_mu_;
  std::string token_{};
  TimePoint token_read_at_{};
};

}  // namespace redisfleet::kube
