#include "store/memory_store.h"

#include <cstdio>
#include <utility>

#include "store/object_util.h"

namespace redisfleet::store {

namespace {

std::string SequentialUid(uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(n));
  return buf;
}

}  // namespace

MemoryStore::MemoryStore(std::shared_ptr<Clock> clock) : clock_(std::move(clock)) {}

std::string MemoryStore::NextResourceVersion() { return std::to_string(++last_resource_version_); }

StatusOr<api::Object> MemoryStore::Get(api::Kind kind, const api::Key& key) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto& objects = objects_[KindIndex(kind)];
  auto it = objects.find(key);
  if (it == objects.end()) return NotFoundError(Describe(kind, key) + " not found");
  return it->second.object;
}

StatusOr<std::vector<api::Object>> MemoryStore::List(api::Kind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto& objects = objects_[KindIndex(kind)];
  std::vector<api::Object> out;
  out.reserve(objects.size());
  for (const auto& [key, entry] : objects) out.push_back(entry.object);
  return out;
}

Status MemoryStore::Watch(api::Kind kind, std::function<void(const Event&)> handler) {
  if (!handler) return InvalidArgumentError("watch handler is empty");
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<api::Key> existing;
    existing.reserve(objects_[KindIndex(kind)].size());
    for (const auto& [key, entry] : objects_[KindIndex(kind)]) existing.push_back(key);
    events_.AddHandler(kind, std::move(handler), existing);
  }
  events_.Deliver();
  return Status::Ok();
}

StatusOr<MemoryStore::Objects::iterator> MemoryStore::FindCurrent(api::Kind kind,
                                                                  const api::ObjectMeta& meta) {
  auto& objects = objects_[KindIndex(kind)];
  auto it = objects.find(meta.key());
  if (it == objects.end()) return NotFoundError(Describe(kind, meta.key()) + " not found");
  RF_RETURN_IF_ERROR(CheckCurrent(kind, api::MetaOf(it->second.object), meta));
  return it;
}

Status MemoryStore::UpdateStatus(const api::Object& o) {
  const api::Kind kind = api::KindOf(o);
  const api::ObjectMeta& meta = api::MetaOf(o);
  std::lock_guard<std::mutex> lock(mu_);
  RF_ASSIGN_OR_RETURN(auto it, FindCurrent(kind, meta));
  api::ObjectMeta& stored = api::MetaOf(it->second.object);
  CopyStatus(o, it->second.object);
  stored.resource_version = NextResourceVersion();
  return Status::Ok();
}

Status MemoryStore::SetFinalizers(const api::Object& o, std::vector<std::string> finalizers) {
  const api::Kind kind = api::KindOf(o);
  const api::ObjectMeta& meta = api::MetaOf(o);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& objects = objects_[KindIndex(kind)];
    RF_ASSIGN_OR_RETURN(auto it, FindCurrent(kind, meta));
    api::ObjectMeta& stored = api::MetaOf(it->second.object);
    if (stored.deleting() && finalizers.empty()) {
      objects.erase(it);
      events_.Enqueue(EventType::kDeleted, kind, meta.key());
    } else {
      stored.finalizers = std::move(finalizers);
      stored.resource_version = NextResourceVersion();
    }
  }
  events_.Deliver();
  return Status::Ok();
}

Status MemoryStore::Apply(api::Object o) {
  const api::Kind kind = api::KindOf(o);
  api::ObjectMeta& meta = api::MetaOf(o);
  if (meta.name.empty()) return InvalidArgumentError("apply: metadata.name is empty");
  const api::Key key = meta.key();
  Fingerprint fingerprint = SpecFingerprint(o);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& objects = objects_[KindIndex(kind)];
    auto it = objects.find(key);
    if (it == objects.end()) {
      meta.uid = SequentialUid(++last_uid_);
      meta.generation = 1;
      meta.resource_version = NextResourceVersion();
      meta.creation_timestamp = clock_->Now();
      meta.deletion_timestamp.reset();
      objects.emplace(key, Entry{std::move(o), std::move(fingerprint)});
      events_.Enqueue(EventType::kAdded, kind, key);
    } else {
      Entry& entry = it->second;
      api::ObjectMeta& stored = api::MetaOf(entry.object);
      const bool spec_changed = fingerprint != entry.spec_fingerprint;
      const bool meta_changed =
          meta.labels != stored.labels || meta.annotations != stored.annotations;
      if (spec_changed || meta_changed) {
        if (spec_changed) {
          CopySpec(o, entry.object);
          entry.spec_fingerprint = std::move(fingerprint);
          ++stored.generation;
        }
        stored.labels = std::move(meta.labels);
        stored.annotations = std::move(meta.annotations);
        stored.resource_version = NextResourceVersion();
        events_.Enqueue(EventType::kModified, kind, key);
      }
    }
  }
  events_.Deliver();
  return Status::Ok();
}

Status MemoryStore::Delete(api::Kind kind, const api::Key& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& objects = objects_[KindIndex(kind)];
    auto it = objects.find(key);
    if (it == objects.end()) return NotFoundError(Describe(kind, key) + " not found");
    api::ObjectMeta& stored = api::MetaOf(it->second.object);
    if (stored.finalizers.empty()) {
      objects.erase(it);
      events_.Enqueue(EventType::kDeleted, kind, key);
    } else if (!stored.deleting()) {
      stored.deletion_timestamp = clock_->Now();
      stored.resource_version = NextResourceVersion();
      events_.Enqueue(EventType::kModified, kind, key);
    }
  }
  events_.Deliver();
  return Status::Ok();
}

}  // namespace redisfleet::store
