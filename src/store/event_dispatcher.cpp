#include "store/event_dispatcher.h"

#include <utility>

#include "store/object_util.h"

namespace redisfleet::store {

void EventDispatcher::AddHandler(api::Kind kind, WatchHandler handler,
                                 const std::vector<api::Key>& existing) {
  auto h = std::make_shared<const WatchHandler>(std::move(handler));
  std::lock_guard<std::mutex> lock(mu_);
  auto& current = handlers_[KindIndex(kind)];
  auto updated =
      current ? std::make_shared<HandlerList>(*current) : std::make_shared<HandlerList>();
  updated->push_back(h);
  current = std::move(updated);
  auto only = std::make_shared<const HandlerList>(HandlerList{h});
  for (const auto& key : existing)
    queue_.push_back(Pending{Event{EventType::kAdded, kind, key}, only});
}

void EventDispatcher::Enqueue(EventType type, api::Kind kind, const api::Key& key) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto& targets = handlers_[KindIndex(kind)];
  if (!targets || targets->empty()) return;
  queue_.push_back(Pending{Event{type, kind, key}, targets});
}

void EventDispatcher::Deliver() {
  std::unique_lock<std::mutex> lock(mu_);
  if (delivering_) return;
  delivering_ = true;
  while (!queue_.empty()) {
    Pending next = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    try {
      for (const auto& handler : *next.targets) (*handler)(next.event);
    } catch (...) {
      lock.lock();
      delivering_ = false;
      throw;
    }
    lock.lock();
  }
  delivering_ = false;
}

}  // namespace redisfleet::store
