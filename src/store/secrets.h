#pragma once
// Secret values: read by reference, and the per-instance connection secret the operator owns.
// Standalone: files (<dir>/secrets/<name>/<key> to read, <state-dir>/secrets/... to write,
// mode 0600). Kubernetes: Secret objects. Values never reach logs or errors.

#include <map>
#include <string>

#include "api/types.h"
#include "common/status.h"

namespace redisfleet::store {

class SecretStore {
 public:
  virtual ~SecretStore() = default;
  // The value `ref` points at in `namespace_`. NotFound (naming the ref, never the value).
  virtual StatusOr<std::string> Read(const std::string& namespace_, const api::SecretKeyRef& ref) = 0;
  // The connection secret of an instance (keys: password, host, port, url), or NotFound.
  virtual StatusOr<std::map<std::string, std::string>> ReadConnection(const api::Key& instance) = 0;
  // Creates or replaces it; returns what status.connectionSecret shows (Secret name / file
  // path).
  virtual StatusOr<std::string> WriteConnection(const api::Key& instance,
                                                const std::map<std::string, std::string>& data) = 0;
  // Removes it; OK if it was not there.
  virtual Status DeleteConnection(const api::Key& instance) = 0;
};

}  // namespace redisfleet::store
