#pragma once
// MemoryStore: an in-memory ObjectStore for controller unit tests and benchmarks.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/types.h"
#include "common/clock.h"
#include "common/status.h"
#include "store/event_dispatcher.h"
#include "store/object_store.h"
#include "store/object_util.h"

namespace redisfleet::store {

// Objects kept per kind in maps by key (Get O(log n)). resourceVersion is a store-wide
// counter; uids are sequential UUID-shaped strings. Handlers run synchronously on the thread
// whose call produced the event, after the store's lock is released (see EventDispatcher).
// Status-only writes (UpdateStatus) and finalizer changes emit no event. Thread-safe.
class MemoryStore final : public ObjectStore {
 public:
  // `clock` stamps creation and deletion times.
  explicit MemoryStore(std::shared_ptr<Clock> clock);

  StatusOr<api::Object> Get(api::Kind kind, const api::Key& key) override;
  StatusOr<std::vector<api::Object>> List(api::Kind kind) override;
  Status Watch(api::Kind kind, std::function<void(const Event&)> handler) override;
  Status UpdateStatus(const api::Object& o) override;
  Status SetFinalizers(const api::Object& o, std::vector<std::string> finalizers) override;

  // Like `kubectl apply`. Create: takes o as given (including status and finalizers, handy for
  // seeding tests), assigns uid, generation 1, creationTimestamp, resourceVersion; kAdded.
  // Replace: takes spec, labels and annotations; keeps uid, status, finalizers, timestamps;
  // generation++ when the spec (SpecToJson) changed; new resourceVersion; kModified. When
  // none of those changed: nothing happens (no event, no new resourceVersion).
  // InvalidArgument when o has no name.
  Status Apply(api::Object o);

  // Deletes like the API server: with finalizers left, sets deletionTimestamp and emits
  // kModified (a no-op when already deleting); otherwise removes it and emits kDeleted.
  // NotFound if absent.
  Status Delete(api::Kind kind, const api::Key& key);

 private:
  struct Entry {
    api::Object object;
    Fingerprint spec_fingerprint;
  };
  std::string NextResourceVersion();  // requires mu_

  std::shared_ptr<Clock> clock_;
  mutable std::mutex mu_;
  using Objects = std::map<api::Key, Entry>;
  // The object `meta` names if it exists and `meta` is current; NotFound / Conflict. Requires mu_.
  StatusOr<Objects::iterator> FindCurrent(api::Kind kind, const api::ObjectMeta& meta);

  std::array<Objects, api::kAllKinds.size()> objects_;
  uint64_t last_resource_version_ = 0;
  uint64_t last_uid_ = 0;
  EventDispatcher events_;
};

}  // namespace redisfleet::store
