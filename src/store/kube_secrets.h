#pragma once
// KubeSecretStore: the Kubernetes-mode SecretStore, on core v1 Secrets.

#include <map>
#include <memory>
#include <string>

#include "api/types.h"
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
// Thread-safe.
class KubeSecretStore final : public SecretStore {
 public:
  // `store` may be null.
  KubeSecretStore(std::shared_ptr<kube::KubeClient> client, std::shared_ptr<ObjectStore> store);

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
  StatusOr<std::map<std::string, std::string>> ReadAll(const std::string& namespace_,
                                                       const std::string& name);

  std::shared_ptr<kube::KubeClient> client_;
  std::shared_ptr<ObjectStore> store_;
};

}  // namespace redisfleet::store
