#pragma once
// Self-service requests in Kubernetes mode: each requested RedisInstance is created and deleted
// through the API server, as `kubectl apply` / `kubectl delete` would; the reconcilers then see
// it through the store like any other instance.

#include <chrono>
#include <memory>

#include "kube/client.h"
#include "server/self_service.h"
#include "store/object_store.h"

namespace redisfleet::server {

// Thread-safe.
class KubeInstanceRequests final : public InstanceRequests {
 public:
  // `store` is the KubeStore the operator reads (Create waits until it holds the new object, so
  // the requester's next GET finds it); `visible_within` bounds that wait.
  KubeInstanceRequests(std::shared_ptr<kube::KubeClient> client, std::shared_ptr<store::ObjectStore> store,
                       std::chrono::milliseconds visible_within = std::chrono::seconds(5));

  // POSTs the instance (without status). AlreadyExists when the name is taken; the API's error
  // otherwise (Unavailable, PermissionDenied, InvalidArgument with the schema's message).
  Status Create(const api::RedisInstance& ri) override;
  // DELETEs it (the finalizer's cleanup runs first). NotFound when absent.
  Status Delete(const api::Key& key) override;

 private:
  std::shared_ptr<kube::KubeClient> client_;
  std::shared_ptr<store::ObjectStore> store_;
  std::chrono::milliseconds visible_within_;
};

}  // namespace redisfleet::server
