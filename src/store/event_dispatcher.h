#pragma once
// Ordered delivery of store events to watch handlers (internal to src/store).

#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "api/types.h"
#include "store/object_store.h"

namespace redisfleet::store {

using WatchHandler = std::function<void(const Event&)>;

// Queues events in the order the store produces them and delivers them in that order, one at a
// time, never holding a lock while a handler runs (handlers may call back into the store).
// Deliver() runs on the caller's thread; if a delivery is already running (another thread, or
// a handler on this thread that changed the store), it returns at once and the running
// delivery picks the new events up. No threads of its own. Thread-safe.
class EventDispatcher {
 public:
  // Registers `handler` for `kind` and queues a kAdded for each of `existing`, to it alone.
  void AddHandler(api::Kind kind, WatchHandler handler, const std::vector<api::Key>& existing);
  // Queues `type` for `key` to every handler of `kind` registered now.
  void Enqueue(EventType type, api::Kind kind, const api::Key& key);
  // Delivers everything queued (see the class comment for who delivers).
  void Deliver();

 private:
  using HandlerList = std::vector<std::shared_ptr<const WatchHandler>>;
  struct Pending {
    Event event;
    std::shared_ptr<const HandlerList> targets;
  };

  std::mutex mu_;
  std::array<std::shared_ptr<const HandlerList>, api::kAllKinds.size()> handlers_;
  std::deque<Pending> queue_;
  bool delivering_ = false;
};

}  // namespace redisfleet::store
