#pragma once
// KubeSecretStore: the Kubernetes-mode SecretStore, on core v1 Secrets.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/types.h"
#include "common/logging.h"
#include "common/status.h"
#include "kube/client.h"
#include "store/object_store.h"
#include "store/secrets.h"

namespace redisfleet::store {

// Read: the base64 `data` (or `stringData`) key of Secret ref.name in the given namespace.
// Connection secrets are Secret `<instance>-connection` in the instance's namespace (type
// Opaque; keys as given, e.g. host, port, password, url), labelled
// redisfleet.io/instance=<ns>.<name> and owned (ownerReference, controller) by the
// RedisInstance, whose uid comes from `store` (without it, or when the instance is not there,
// the Secret is written without an owner). Errors name Secrets and keys, never values.
//
// After Start(), connection Secrets (those labelled redisfleet.io/instance) are cached by list +
// watch, as controller-runtime caches owned objects: ReadConnection answers from the cache,
// WriteConnection skips a write that changes nothing, creates without a GET what the cache does
// not hold and replaces with the cached resourceVersion (a conflict re-reads once). A Secret
// someone else edits or deletes is seen through the watch and reported to `on_changed`, so the
// instance is reconciled and the Secret restored. Without Start() every call goes to the API.
// Thread-safe; Start and Stop must not race each other.
class KubeSecretStore final : public SecretStore {
 public:
  struct Options {
    std::string namespace_{};  // the cache's namespace; "" = every namespace
    std::chrono::milliseconds retry_backoff{1000};  // after a failed list/watch
    std::chrono::seconds watch_timeout{300};
  };

  // `store` may be null.
  KubeSecretStore(std::shared_ptr<kube::KubeClient> client, std::shared_ptr<ObjectStore> store);
  KubeSecretStore(Options options, std::shared_ptr<kube::KubeClient> client,
                  std::shared_ptr<ObjectStore> store, std::shared_ptr<Logger> logger);
  ~KubeSecretStore() override;  // Stop()
  KubeSecretStore(const KubeSecretStore&) = delete;
  KubeSecretStore& operator=(const KubeSecretStore&) = delete;

  // Lists the connection Secrets (the cache is complete when it returns) and starts the watch
  // thread. The list's error when it fails (nothing started).
  Status Start();
  // Stops and joins the watch thread; the cache is dropped. Idempotent.
  void Stop();
  // Called (on the watch thread) with the instance whose connection Secret someone else
  // changed or deleted. Set before Start.
  void SetOnChanged(std::function<void(const api::Key&)> on_changed) { on_changed_ = std::move(on_changed); }

  // NotFound naming the Secret (and key); InvalidArgument when the value is not base64.
  StatusOr<std::string> Read(const std::string& namespace_, const api::SecretKeyRef& ref) override;
  StatusOr<std::map<std::string, std::string>> ReadConnection(const api::Key& instance) override;
  // Creates the Secret, or replaces its data, labels and owner; returns the Secret's name.
  StatusOr<std::string> WriteConnection(const api::Key& instance,
                                        const std::map<std::string, std::string>& data) override;
  // Deletes the Secret; OK when absent.
  Status DeleteConnection(const api::Key& instance) override;

  // "<name>-connection".
  static std::string ConnectionSecretName(const api::Key& instance);

 private:
  struct Cached {
    nlohmann::json object;  // as the server returned it, without data (for a conditional replace)
    std::map<std::string, std::string> data;
    // resourceVersions our own writes produced (the latest few), so that the watch's echo of an
    // earlier write of ours is neither taken for an outside change nor put over a newer one.
    std::vector<std::string> own_versions{};
  };
  using CacheKey = std::pair<std::string, std::string>;  // namespace, Secret name

  StatusOr<std::map<std::string, std::string>> ReadAll(const std::string& namespace_,
                                                       const std::string& name);
  // The cached connection Secret, or nullopt; `*synced` tells whether the cache is running.
  std::optional<Cached> Lookup(const CacheKey& key, bool* synced) const;
  // Puts a Secret the server returned into the cache (when running).
  void Remember(const nlohmann::json& secret);
  void Forget(const CacheKey& key);
  Status Relist();
  void Run();
  void Backoff(std::chrono::milliseconds d);

  const Options options_;
  std::shared_ptr<kube::KubeClient> client_;
  std::shared_ptr<ObjectStore> store_;
  std::shared_ptr<Logger> log_;
  std::function<void(const api::Key&)> on_changed_;

  mutable std::mutex mu_;  // guards cache_, writing_, deleting_, synced_, resource_version_
  std::map<CacheKey, Cached> cache_;
  std::map<CacheKey, std::map<std::string, std::string>> writing_;  // data of writes in flight
  std::set<CacheKey> deleting_;  // deleted by us, until the watch reports it
  bool synced_ = false;
  std::string resource_version_;

  std::atomic<bool> stop_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::thread thread_;
};

}  // namespace redisfleet::store
