#include "store/kube_store.h"

#include <charconv>
#include <set>
#include <utility>

#include "api/codec.h"
#include "store/object_util.h"

namespace redisfleet::store {
namespace {

using nlohmann::json;

constexpr std::string_view kGroup = "redisfleet.io";
constexpr std::string_view kVersion = "v1alpha1";

std::optional<std::uint64_t> ParseRv(const std::string& rv) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), v);
  if (ec != std::errc() || p != rv.data() + rv.size() || rv.empty()) return std::nullopt;
  return v;
}

// True when resourceVersion `a` is older than `b` (only decidable when both are numbers, as
// every API server makes them; otherwise false: the newer write wins).
bool OlderThan(const std::string& a, const std::string& b) {
  auto x = ParseRv(a), y = ParseRv(b);
  return x && y && *x < *y;
}

// Whether the store reports a change (kModified) between two versions of an object.
bool Changed(const api::ObjectMeta& before, const api::ObjectMeta& after) {
  return before.generation != after.generation || before.labels != after.labels ||
         before.annotations != after.annotations || before.deletion_timestamp != after.deletion_timestamp ||
         before.uid != after.uid;
}

std::string StringAt(const json& j, const char* a, const char* b) {
  if (!j.is_object()) return "";
  auto it = j.find(a);
  if (it == j.end() || !it->is_object()) return "";
  auto jt = it->find(b);
  if (jt == it->end() || !jt->is_string()) return "";
  return jt->get<std::string>();
}

api::Key KeyOfJson(const json& j) {
  api::Key key;
  key.name = StringAt(j, "metadata", "name");
  std::string ns = StringAt(j, "metadata", "namespace");
  if (!ns.empty()) key.namespace_ = ns;
  return key;
}

}  // namespace

kube::ResourcePath KindPath(api::Kind kind, const std::string& namespace_name) {
  kube::ResourcePath p;
  p.group = std::string(kGroup);
  p.version = std::string(kVersion);
  p.plural = std::string(api::KindPlural(kind));
  p.namespace_name = namespace_name;
  return p;
}

KubeStore::KubeStore(Options options, std::shared_ptr<kube::KubeClient> client,
                     std::shared_ptr<Logger> logger)
    : options_(std::move(options)), client_(std::move(client)), log_(std::move(logger)) {}

KubeStore::~KubeStore() { Stop(); }

Status KubeStore::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return FailedPreconditionError("KubeStore already started");
  }
  for (api::Kind kind : options_.kinds) RF_RETURN_IF_ERROR(Relist(kind));
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;
  }
  stop_ = false;
  for (api::Kind kind : options_.kinds) threads_.emplace_back([this, kind] { Run(kind); });
  events_.Deliver();
  return Status::Ok();
}

void KubeStore::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void KubeStore::Backoff(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(stop_mu_);
  stop_cv_.wait_for(lock, d, [this] { return stop_.load(); });
}

void KubeStore::Run(api::Kind kind) {
  const std::string kind_name(api::EnumName(kind));
  using SteadyClock = std::chrono::steady_clock;
  auto next_resync = SteadyClock::now() + options_.resync;
  bool relist = false;
  while (!stop_) {
    if (relist || (options_.resync.count() > 0 && SteadyClock::now() >= next_resync)) {
      Status s = Relist(kind);
      events_.Deliver();
      if (!s.ok()) {
        log_->Warn("kube store list failed", {{"kind", kind_name}, {"error", s.ToString()}});
        relist = true;
        Backoff(options_.retry_backoff);
        continue;
      }
      relist = false;
      next_resync = SteadyClock::now() + options_.resync;
    }
    kube::WatchOptions wo;
    {
      std::lock_guard<std::mutex> lock(mu_);
      wo.resource_version = resource_versions_[KindIndex(kind)];
    }
    wo.allow_watch_bookmarks = true;
    wo.timeout = options_.watch_timeout;
    bool resync_due = false;
    bool got_events = false;
    const auto watch_started = SteadyClock::now();
    Status s = client_->Watch(
        KindPath(kind, options_.namespace_), wo,
        [&](kube::WatchEventType type, const json& object) {
          got_events = true;
          Apply(kind, type, object);
          events_.Deliver();
        },
        [&] {
          if (stop_) return true;
          if (options_.resync.count() > 0 && SteadyClock::now() >= next_resync) {
            resync_due = true;
            return true;
          }
          return false;
        });
    if (stop_) break;
    if (resync_due || s.ok()) continue;  // resync relists; a stream that ended resumes
    if (kube::IsExpired(s)) {
      log_->Info("kube store watch expired, relisting", {{"kind", kind_name}});
      relist = true;
      continue;
    }
    log_->Warn("kube store watch failed", {{"kind", kind_name}, {"error", s.ToString()}});
    // A stream that worked for a while and then broke (a restart, a cut connection) resumes at
    // once; a watch that fails straight away waits first.
    if (got_events || SteadyClock::now() - watch_started >= options_.retry_backoff) continue;
    Backoff(options_.retry_backoff);
  }
}

std::optional<api::Object> KubeStore::Decode(api::Kind kind, const json& j) {
  api::ParsedDocument d = api::DecodeJson(j);
  if (d.problems.empty() && d.object && api::KindOf(*d.object) == kind) return std::move(*d.object);
  std::string fields;
  for (const auto& p : d.problems) {
    if (!fields.empty()) fields += ",";
    fields += p.field.empty() ? "(object)" : p.field;
  }
  if (d.problems.empty()) fields = "kind";
  log_->Warn("kube store skipped an object the codec rejects",
             {{"kind", std::string(api::EnumName(kind))}, {"key", KeyOfJson(j).ToString()}, {"fields", fields}});
  return std::nullopt;
}

Status KubeStore::Relist(api::Kind kind) {
  RF_ASSIGN_OR_RETURN(kube::ListResult list, client_->List(KindPath(kind, options_.namespace_)));
  ++relists_;
  std::map<api::Key, std::optional<api::Object>> seen;  // nullopt: present but undecodable
  for (const json& item : list.items) {
    seen[KeyOfJson(item)] = Decode(kind, item);
  }
  std::lock_guard<std::mutex> lock(mu_);
  Cache& cache = caches_[KindIndex(kind)];
  std::vector<api::Key> gone;
  for (const auto& [key, entry] : cache) {
    if (!seen.count(key)) gone.push_back(key);
  }
  for (const auto& key : gone) RemoveLocked(kind, key);
  tombstones_[KindIndex(kind)].clear();
  for (auto& [key, obj] : seen) {
    if (obj) UpsertLocked(kind, std::move(*obj));
  }
  resource_versions_[KindIndex(kind)] = list.resource_version;
  return Status::Ok();
}

void KubeStore::Apply(api::Kind kind, kube::WatchEventType type, const json& object) {
  const std::string rv = StringAt(object, "metadata", "resourceVersion");
  if (type == kube::WatchEventType::kBookmark) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!rv.empty()) resource_versions_[KindIndex(kind)] = rv;
    return;
  }
  std::optional<api::Object> decoded;
  if (type != kube::WatchEventType::kDeleted) decoded = Decode(kind, object);
  std::lock_guard<std::mutex> lock(mu_);
  if (!rv.empty()) resource_versions_[KindIndex(kind)] = rv;
  if (type == kube::WatchEventType::kDeleted) {
    tombstones_[KindIndex(kind)].erase(KeyOfJson(object));
    RemoveLocked(kind, KeyOfJson(object));
  } else if (decoded) {
    UpsertLocked(kind, std::move(*decoded));
  }
}

void KubeStore::UpsertLocked(api::Kind kind, api::Object o) {
  Cache& cache = caches_[KindIndex(kind)];
  const api::Key key = api::MetaOf(o).key();
  auto& tombstones = tombstones_[KindIndex(kind)];
  if (auto t = tombstones.find(key); t != tombstones.end()) {
    if (!OlderThan(t->second, api::MetaOf(o).resource_version)) return;  // stale: already removed
    tombstones.erase(t);
  }
  auto it = cache.find(key);
  if (it == cache.end()) {
    cache.emplace(key, Entry{std::move(o)});
    events_.Enqueue(EventType::kAdded, kind, key);
    return;
  }
  const api::ObjectMeta& old = api::MetaOf(it->second.object);
  const api::ObjectMeta& now = api::MetaOf(o);
  if (old.uid == now.uid && OlderThan(now.resource_version, old.resource_version)) return;
  const bool changed = Changed(old, now);
  it->second.object = std::move(o);
  if (changed) events_.Enqueue(EventType::kModified, kind, key);
}

void KubeStore::RemoveLocked(api::Kind kind, const api::Key& key) {
  if (caches_[KindIndex(kind)].erase(key) > 0) events_.Enqueue(EventType::kDeleted, kind, key);
}

StatusOr<api::Object> KubeStore::Get(api::Kind kind, const api::Key& key) {
  std::lock_guard<std::mutex> lock(mu_);
  const Cache& cache = caches_[KindIndex(kind)];
  auto it = cache.find(key);
  if (it == cache.end()) return NotFoundError(Describe(kind, key) + " not found");
  return it->second.object;
}

StatusOr<std::vector<api::Object>> KubeStore::List(api::Kind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<api::Object> out;
  for (const auto& [key, entry] : caches_[KindIndex(kind)]) out.push_back(entry.object);
  return out;
}

Status KubeStore::Watch(api::Kind kind, std::function<void(const Event&)> handler) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<api::Key> existing;
    for (const auto& [key, entry] : caches_[KindIndex(kind)]) existing.push_back(key);
    events_.AddHandler(kind, std::move(handler), existing);
  }
  events_.Deliver();
  return Status::Ok();
}

Status KubeStore::UpdateStatus(const api::Object& o) {
  const api::Kind kind = api::KindOf(o);
  const api::ObjectMeta& meta = api::MetaOf(o);
  json body = api::ToJson(o);
  body["status"] = api::StatusToJson(o);
  RF_ASSIGN_OR_RETURN(json updated,
                      client_->UpdateStatus(KindPath(kind, meta.namespace_).Named(meta.name), body));
  if (auto decoded = Decode(kind, updated)) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      UpsertLocked(kind, std::move(*decoded));
    }
    events_.Deliver();
  }
  return Status::Ok();
}

Status KubeStore::SetFinalizers(const api::Object& o, std::vector<std::string> finalizers) {
  const api::Kind kind = api::KindOf(o);
  const api::ObjectMeta& meta = api::MetaOf(o);
  json patch = {{"metadata", {{"finalizers", finalizers}}}};
  if (!meta.resource_version.empty()) patch["metadata"]["resourceVersion"] = meta.resource_version;
  RF_ASSIGN_OR_RETURN(json updated,
                      client_->MergePatch(KindPath(kind, meta.namespace_).Named(meta.name), patch));
  auto decoded = Decode(kind, updated);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (decoded) {
      const api::ObjectMeta& now = api::MetaOf(*decoded);
      if (now.deleting() && now.finalizers.empty()) {
        tombstones_[KindIndex(kind)][now.key()] = now.resource_version;
        RemoveLocked(kind, now.key());
      } else {
        UpsertLocked(kind, std::move(*decoded));
      }
    }
  }
  events_.Deliver();
  return Status::Ok();
}

}  // namespace redisfleet::store
