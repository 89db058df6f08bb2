#include "store/kube_secrets.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/config.h"

namespace redisfleet::store {
namespace {

using nlohmann::json;

std::string Base64Encode(const std::string& in) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    out += kChars[(v >> 18) & 63];
    out += kChars[(v >> 12) & 63];
    out += kChars[(v >> 6) & 63];
    out += kChars[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kChars[(v >> 18) & 63];
    out += kChars[(v >> 12) & 63];
    out += i + 1 < in.size() ? kChars[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

constexpr char kInstanceLabel[] = "redisfleet.io/instance";
constexpr char kConnectionSuffix[] = "-connection";

kube::ResourcePath SecretPath(const std::string& namespace_, const std::string& name = "") {
  kube::ResourcePath p;
  p.version = "v1";
  p.plural = "secrets";
  p.namespace_name = namespace_;
  p.name = name;
  return p;
}

// The decoded `data` (and `stringData`) of a Secret; nullopt when a value is not base64.
std::optional<std::map<std::string, std::string>> DecodeData(const json& secret, std::string* bad_key) {
  std::map<std::string, std::string> out;
  if (auto it = secret.find("data"); it != secret.end() && it->is_object()) {
    for (auto kv = it->begin(); kv != it->end(); ++kv) {
      if (!kv->is_string()) continue;
      auto decoded = kube::Base64Decode(kv->get<std::string>());
      if (!decoded) {
        if (bad_key) *bad_key = kv.key();
        return std::nullopt;
      }
      out[kv.key()] = std::move(*decoded);
    }
  }
  if (auto it = secret.find("stringData"); it != secret.end() && it->is_object()) {
    for (auto kv = it->begin(); kv != it->end(); ++kv) {
      if (kv->is_string()) out[kv.key()] = kv->get<std::string>();
    }
  }
  return out;
}

std::string MetaString(const json& object, const char* field) {
  auto md = object.find("metadata");
  if (md == object.end() || !md->is_object()) return "";
  auto it = md->find(field);
  return it != md->end() && it->is_string() ? it->get<std::string>() : "";
}

// The instance a connection Secret belongs to, from its name; nullopt for other Secrets.
std::optional<api::Key> InstanceOf(const std::string& namespace_, const std::string& secret_name) {
  const std::string_view suffix(kConnectionSuffix);
  if (secret_name.size() <= suffix.size() ||
      secret_name.compare(secret_name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return std::nullopt;
  }
  return api::Key{namespace_, secret_name.substr(0, secret_name.size() - suffix.size())};
}

// What the cache keeps of a Secret besides its decoded data: the object without its values and
// managedFields (enough for a conditional replace, a fraction of the memory).
json Skeleton(json secret) {
  secret.erase("data");
  secret.erase("stringData");
  if (auto md = secret.find("metadata"); md != secret.end() && md->is_object()) md->erase("managedFields");
  return secret;
}

}  // namespace

KubeSecretStore::KubeSecretStore(std::shared_ptr<kube::KubeClient> client, std::shared_ptr<ObjectStore> store)
    : KubeSecretStore(Options{}, std::move(client), std::move(store), Logger::Null()) {}

KubeSecretStore::KubeSecretStore(Options options, std::shared_ptr<kube::KubeClient> client,
                                 std::shared_ptr<ObjectStore> store, std::shared_ptr<Logger> logger)
    : options_(std::move(options)), client_(std::move(client)), store_(std::move(store)),
      log_(logger ? std::move(logger) : Logger::Null()) {}

KubeSecretStore::~KubeSecretStore() { Stop(); }

Status KubeSecretStore::Start() {
  if (thread_.joinable()) return FailedPreconditionError("KubeSecretStore already started");
  RF_RETURN_IF_ERROR(Relist());
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void KubeSecretStore::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  synced_ = false;
  cache_.clear();
}

void KubeSecretStore::Backoff(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(stop_mu_);
  stop_cv_.wait_for(lock, d, [this] { return stop_.load(); });
}

Status KubeSecretStore::Relist() {
  kube::ListOptions lo;
  lo.label_selector = kInstanceLabel;
  RF_ASSIGN_OR_RETURN(kube::ListResult list, client_->List(SecretPath(options_.namespace_), lo));
  std::map<CacheKey, Cached> fresh;
  for (json& item : list.items) {
    CacheKey key{MetaString(item, "namespace"), MetaString(item, "name")};
    auto data = DecodeData(item, nullptr);
    if (!data || !InstanceOf(key.first, key.second)) continue;
    fresh[key] = Cached{Skeleton(std::move(item)), std::move(*data)};
  }
  std::vector<api::Key> changed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (synced_) {
      for (const auto& [key, entry] : cache_) {
        auto it = fresh.find(key);
        if (it == fresh.end() || it->second.data != entry.data) {
          if (auto instance = InstanceOf(key.first, key.second)) changed.push_back(*instance);
        }
      }
    }
    cache_ = std::move(fresh);
    resource_version_ = list.resource_version;
    synced_ = true;
  }
  if (on_changed_) {
    for (const auto& k : changed) on_changed_(k);
  }
  return Status::Ok();
}

void KubeSecretStore::Run() {
  bool relist = false;
  while (!stop_) {
    if (relist) {
      if (Status s = Relist(); !s.ok()) {
        log_->Warn("connection secret list failed", {{"error", s.ToString()}});
        Backoff(options_.retry_backoff);
        continue;
      }
      relist = false;
    }
    kube::WatchOptions wo;
    {
      std::lock_guard<std::mutex> lock(mu_);
      wo.resource_version = resource_version_;
    }
    wo.label_selector = kInstanceLabel;
    wo.timeout = options_.watch_timeout;
    bool got_events = false;
    const auto started = std::chrono::steady_clock::now();
    Status s = client_->Watch(
        SecretPath(options_.namespace_), wo,
        [&](kube::WatchEventType type, const json& object) {
          got_events = true;
          const std::string rv = MetaString(object, "resourceVersion");
          CacheKey key{MetaString(object, "namespace"), MetaString(object, "name")};
          std::optional<api::Key> instance = InstanceOf(key.first, key.second);
          bool changed = false;
          {
            std::lock_guard<std::mutex> lock(mu_);
            if (!rv.empty()) resource_version_ = rv;
            if (type == kube::WatchEventType::kBookmark || !instance) return;
            if (auto d = deleting_.find(key); d != deleting_.end()) {
              // We are deleting it: what comes before its DELETED is our own history.
              if (type == kube::WatchEventType::kDeleted) deleting_.erase(d);
              return;
            }
            auto it = cache_.find(key);
            if (it != cache_.end() && !rv.empty() &&
                std::find(it->second.own_versions.begin(), it->second.own_versions.end(), rv) !=
                    it->second.own_versions.end()) {
              return;  // the echo of our own write
            }
            if (type == kube::WatchEventType::kDeleted) {
              changed = it != cache_.end();
              if (changed) cache_.erase(it);
            } else if (auto data = DecodeData(object, nullptr)) {
              auto w = writing_.find(key);
              changed = it != cache_.end() && it->second.data != *data &&
                        (w == writing_.end() || w->second != *data);
              cache_[key] = Cached{Skeleton(object), std::move(*data)};
            }
          }
          if (changed && on_changed_) on_changed_(*instance);
        },
        [this] { return stop_.load(); });
    if (stop_) break;
    if (s.ok()) continue;
    if (kube::IsExpired(s)) {
      relist = true;
      continue;
    }
    log_->Warn("connection secret watch failed", {{"error", s.ToString()}});
    if (got_events || std::chrono::steady_clock::now() - started >= options_.retry_backoff) continue;
    Backoff(options_.retry_backoff);
  }
}

std::optional<KubeSecretStore::Cached> KubeSecretStore::Lookup(const CacheKey& key, bool* synced) const {
  std::lock_guard<std::mutex> lock(mu_);
  *synced = synced_;
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

void KubeSecretStore::Remember(const json& secret) {
  CacheKey key{MetaString(secret, "namespace"), MetaString(secret, "name")};
  auto data = DecodeData(secret, nullptr);
  std::lock_guard<std::mutex> lock(mu_);
  if (!synced_ || !data) return;
  Cached& entry = cache_[key];
  std::vector<std::string> own = std::move(entry.own_versions);
  own.push_back(MetaString(secret, "resourceVersion"));
  if (own.size() > 4) own.erase(own.begin());
  entry = Cached{Skeleton(secret), std::move(*data), std::move(own)};
}

void KubeSecretStore::Forget(const CacheKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.erase(key);
}

std::string KubeSecretStore::ConnectionSecretName(const api::Key& instance) {
  return instance.name + "-connection";
}

StatusOr<std::map<std::string, std::string>> KubeSecretStore::ReadAll(const std::string& namespace_,
                                                                      const std::string& name) {
  RF_ASSIGN_OR_RETURN(json secret, client_->Get(SecretPath(namespace_, name)));
  std::string bad_key;
  auto out = DecodeData(secret, &bad_key);
  if (!out) {
    return InvalidArgumentError("Secret " + namespace_ + "/" + name + " key " + bad_key +
                                ": data is not base64");
  }
  return std::move(*out);
}

StatusOr<std::string> KubeSecretStore::Read(const std::string& namespace_, const api::SecretKeyRef& ref) {
  if (ref.name.empty() || ref.key.empty()) return InvalidArgumentError("empty secret reference");
  auto all = ReadAll(namespace_, ref.name);
  if (!all) {
    if (all.error().code() == StatusCode::kNotFound) {
      return NotFoundError("Secret " + namespace_ + "/" + ref.name + " not found");
    }
    return all.error();
  }
  auto it = all->find(ref.key);
  if (it == all->end()) {
    return NotFoundError("Secret " + namespace_ + "/" + ref.name + " has no key " + ref.key);
  }
  return it->second;
}

StatusOr<std::map<std::string, std::string>> KubeSecretStore::ReadConnection(const api::Key& instance) {
  const std::string name = ConnectionSecretName(instance);
  bool synced = false;
  if (auto cached = Lookup({instance.namespace_, name}, &synced)) return std::move(cached->data);
  if (synced) return NotFoundError("Secret " + instance.namespace_ + "/" + name + " not found");
  return ReadAll(instance.namespace_, name);
}

StatusOr<std::string> KubeSecretStore::WriteConnection(const api::Key& instance,
                                                       const std::map<std::string, std::string>& data) {
  const std::string name = ConnectionSecretName(instance);
  const CacheKey cache_key{instance.namespace_, name};
  json secret = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"type", "Opaque"}};
  json& md = secret["metadata"];
  md["name"] = name;
  md["namespace"] = instance.namespace_;
  md["labels"] = {{kInstanceLabel, instance.namespace_ + "." + instance.name}};
  if (store_) {
    auto owner = store_->Get(api::Kind::kRedisInstance, instance);
    if (owner && !api::MetaOf(*owner).uid.empty()) {
      md["ownerReferences"] = json::array({{{"apiVersion", "redisfleet.io/v1alpha1"},
                                            {"kind", "RedisInstance"},
                                            {"name", instance.name},
                                            {"uid", api::MetaOf(*owner).uid},
                                            {"controller", true},
                                            {"blockOwnerDeletion", true}}});
    }
  }
  json encoded = json::object();
  for (const auto& [k, v] : data) encoded[k] = Base64Encode(v);
  secret["data"] = std::move(encoded);

  // The new object from `current` (as on the server): our data, labels and owner.
  auto replacement = [&](const json& current) {
    json next = current;
    next["data"] = secret["data"];
    next.erase("stringData");
    next["type"] = current.value("type", "Opaque");
    next["metadata"]["labels"] = current["metadata"].value("labels", json::object());
    for (auto& [k, v] : md["labels"].items()) next["metadata"]["labels"][k] = v;
    if (md.contains("ownerReferences")) next["metadata"]["ownerReferences"] = md["ownerReferences"];
    return next;
  };

  bool synced = false;
  std::optional<Cached> cached = Lookup(cache_key, &synced);
  if (cached && cached->data == data && replacement(cached->object)["metadata"] == cached->object["metadata"]) {
    return name;  // nothing changes
  }
  // While our write is in flight its watch event may come before its response: that event is
  // not an outside change.
  {
    std::lock_guard<std::mutex> lock(mu_);
    writing_[cache_key] = data;
    deleting_.erase(cache_key);
  }
  struct Done {
    KubeSecretStore* self;
    CacheKey key;
    ~Done() {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->writing_.erase(key);
    }
  } done{this, cache_key};
  bool create = !cached;
  if (cached) {
    auto updated = client_->Update(SecretPath(instance.namespace_, name), replacement(cached->object));
    if (updated) {
      Remember(*updated);
      return name;
    }
    if (updated.error().code() == StatusCode::kNotFound) {
      Forget(cache_key);  // deleted behind our back: create it again
      create = true;
    } else if (updated.error().code() != StatusCode::kConflict) {
      return updated.error();
    }
  }
  if (create) {
    auto created = client_->Create(SecretPath(instance.namespace_), secret);
    if (created) {
      Remember(*created);
      return name;
    }
    if (created.error().code() != StatusCode::kAlreadyExists) return created.error();
  }
  // Replace what the server holds: conditional on its resourceVersion; a concurrent writer gets
  // one retry.
  Status last = Status::Ok();
  for (int attempt = 0; attempt < 2; ++attempt) {
    RF_ASSIGN_OR_RETURN(json current, client_->Get(SecretPath(instance.namespace_, name)));
    auto updated = client_->Update(SecretPath(instance.namespace_, name), replacement(current));
    if (updated) {
      Remember(*updated);
      return name;
    }
    last = updated.error();
    if (last.code() != StatusCode::kConflict) return last;
  }
  return last;
}

Status KubeSecretStore::DeleteConnection(const api::Key& instance) {
  const CacheKey key{instance.namespace_, ConnectionSecretName(instance)};
  {
    std::lock_guard<std::mutex> lock(mu_);
    cache_.erase(key);
    if (synced_) deleting_.insert(key);
  }
  auto deleted = client_->Delete(SecretPath(instance.namespace_, key.second));
  if (!deleted) {
    std::lock_guard<std::mutex> lock(mu_);
    deleting_.erase(key);  // no DELETED event will come
    if (deleted.error().code() != StatusCode::kNotFound) return deleted.error();
  }
  return Status::Ok();
}

}  // namespace redisfleet::store
