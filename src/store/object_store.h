#pragma once
// Where desired state comes from and status goes to. DirStore (a directory of YAML files plus
// a state directory) and KubeStore (CRDs) implement it; MemoryStore is for tests/benchmarks.

#include <functional>
#include <string>
#include <vector>

#include "api/types.h"
#include "common/status.h"

namespace redisfleet::store {

enum class EventType { kAdded, kModified, kDeleted };

struct Event {
  EventType type;
  api::Kind kind;
  api::Key key;
};

// Thread-safe.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // NotFound when there is no such object (an object being deleted, i.e. with a
  // deletionTimestamp and finalizers left, is still returned).
  virtual StatusOr<api::Object> Get(api::Kind kind, const api::Key& key) = 0;
  // Every object of `kind`, sorted by key.
  virtual StatusOr<std::vector<api::Object>> List(api::Kind kind) = 0;
  // Calls `handler` for every later change of `kind` (and kAdded for each existing object
  // first). Handlers run on the store's own thread and must not block.
  virtual Status Watch(api::Kind kind, std::function<void(const Event&)> handler) = 0;
  // Writes the status part of `o`. Conflict when o.metadata.resource_version is stale,
  // NotFound when the object is gone. Updates nothing but status.
  virtual Status UpdateStatus(const api::Object& o) = 0;
  // Replaces the finalizers. When the object is being deleted and the list becomes empty,
  // the object is removed for good (and a kDeleted event follows).
  virtual Status SetFinalizers(const api::Object& o, std::vector<std::string> finalizers) = 0;
};

}  // namespace redisfleet::store
