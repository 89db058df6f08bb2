#pragma once
// KubeStore: the Kubernetes-mode ObjectStore. Desired state and status live in the custom
// resources (redisfleet.io/v1alpha1) of an API server; the store keeps an informer-style cache
// filled by list + watch, one thread per kind.

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/types.h"
#include "common/logging.h"
#include "common/status.h"
#include "kube/client.h"
#include "store/event_dispatcher.h"
#include "store/object_store.h"

namespace redisfleet::store {

// The collection path of `kind` (group redisfleet.io, version v1alpha1) in `namespace_name`
// ("" = all namespaces).
kube::ResourcePath KindPath(api::Kind kind, const std::string& namespace_name = "");

// Get/List read the cache. Each kind's thread watches from the last resourceVersion seen
// (bookmarks included); a stream that ends or is cut is resumed from there, a 410 Expired (or
// a due resync) relists and diffs the list against the cache, so no add/modify/delete is
// missed. Events: kAdded for new objects, kModified only when generation, labels, annotations
// or deletionTimestamp changed (never for status or finalizers alone), kDeleted when gone.
// An object the codec rejects is logged (name and fields, never values) and skipped; one seen
// before keeps its last good version. Events are delivered on the kind's thread (or on the
// caller's for SetFinalizers' removal), never under the store's lock.
// Thread-safe; Start and Stop must not race each other and Stop must not run in a handler.
class KubeStore final : public ObjectStore {
 public:
  struct Options {
    std::string namespace_{};                   // "" = every namespace
    std::chrono::milliseconds resync{0};        // relist this often; 0 = only on 410
    std::chrono::milliseconds retry_backoff{1000};  // after a failed list/watch
    std::chrono::seconds watch_timeout{300};    // server-side timeoutSeconds of each watch
    std::vector<api::Kind> kinds{api::kAllKinds.begin(), api::kAllKinds.end()};  // watched kinds
  };

  KubeStore(Options options, std::shared_ptr<kube::KubeClient> client, std::shared_ptr<Logger> logger);
  ~KubeStore() override;  // Stop()
  KubeStore(const KubeStore&) = delete;
  KubeStore& operator=(const KubeStore&) = delete;

  // Lists every kind (so List is complete when it returns) and starts the watch threads. The
  // list's error when one fails (nothing started); FailedPrecondition when already started.
  Status Start();
  // Stops and joins the threads. Idempotent.
  void Stop();

  StatusOr<api::Object> Get(api::Kind kind, const api::Key& key) override;
  StatusOr<std::vector<api::Object>> List(api::Kind kind) override;
  Status Watch(api::Kind kind, std::function<void(const Event&)> handler) override;
  // PUT .../status with o's resourceVersion and its whole status. Conflict (stale
  // resourceVersion), NotFound, or the client's error. Updates the cache from the response.
  Status UpdateStatus(const api::Object& o) override;
  // Merge patch of metadata.finalizers conditional on o's resourceVersion. Conflict when stale.
  // When the object is deleting and the list is empty, the server removes it: the cache drops
  // it and kDeleted is delivered before this returns.
  Status SetFinalizers(const api::Object& o, std::vector<std::string> finalizers) override;

  // Lists done so far (initial ones included), for tests and metrics.
  std::uint64_t Relists() const { return relists_.load(); }

 private:
  struct Entry {
    api::Object object;
  };
  using Cache = std::map<api::Key, Entry>;

  void Run(api::Kind kind);
  // Lists `kind` and diffs it into the cache (queuing events). Does not deliver.
  Status Relist(api::Kind kind);
  // Applies one watch event to the cache (queuing events). Does not deliver.
  void Apply(api::Kind kind, kube::WatchEventType type, const nlohmann::json& object);
  // Decodes a server object; logs and returns nullopt when the codec rejects it.
  std::optional<api::Object> Decode(api::Kind kind, const nlohmann::json& j);
  // Stores `o` in the cache unless the cache holds a newer version; queues the event the change
  // calls for. Requires mu_.
  void UpsertLocked(api::Kind kind, api::Object o);
  void RemoveLocked(api::Kind kind, const api::Key& key);
  // Sleeps `d` or until Stop.
  void Backoff(std::chrono::milliseconds d);

  const Options options_;
  const std::shared_ptr<kube::KubeClient> client_;
  const std::shared_ptr<Logger> log_;

  mutable std::mutex mu_;  // guards caches_, resource_versions_, started_
  std::array<Cache, api::kAllKinds.size()> caches_;
  std::array<std::string, api::kAllKinds.size()> resource_versions_;
  // Objects SetFinalizers saw removed, by the resourceVersion of the removal, so that a stale
  // watch event still in flight does not bring them back; dropped when the watch or a list
  // confirms the removal.
  std::array<std::map<api::Key, std::string>, api::kAllKinds.size()> tombstones_;
  bool started_ = false;

  std::atomic<bool> stop_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::vector<std::thread> threads_;
  std::atomic<std::uint64_t> relists_{0};
  EventDispatcher events_;
};

}  // namespace redisfleet::store
