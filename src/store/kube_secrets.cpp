#include "store/kube_secrets.h"

#include <utility>

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

kube::ResourcePath SecretPath(const std::string& namespace_, const std::string& name = "") {
  kube::ResourcePath p;
  p.version = "v1";
  p.plural = "secrets";
  p.namespace_name = namespace_;
  p.name = name;
  return p;
}

}  // namespace

KubeSecretStore::KubeSecretStore(std::shared_ptr<kube::KubeClient> client, std::shared_ptr<ObjectStore> store)
    : client_(std::move(client)), store_(std::move(store)) {}

std::string KubeSecretStore::ConnectionSecretName(const api::Key& instance) {
  return instance.name + "-connection";
}

StatusOr<std::map<std::string, std::string>> KubeSecretStore::ReadAll(const std::string& namespace_,
                                                                      const std::string& name) {
  RF_ASSIGN_OR_RETURN(json secret, client_->Get(SecretPath(namespace_, name)));
  std::map<std::string, std::string> out;
  if (auto it = secret.find("data"); it != secret.end() && it->is_object()) {
    for (auto kv = it->begin(); kv != it->end(); ++kv) {
      if (!kv->is_string()) continue;
      auto decoded = kube::Base64Decode(kv->get<std::string>());
      if (!decoded) {
        return InvalidArgumentError("Secret " + namespace_ + "/" + name + " key " + kv.key() +
                                    ": data is not base64");
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
  return ReadAll(instance.namespace_, ConnectionSecretName(instance));
}

StatusOr<std::string> KubeSecretStore::WriteConnection(const api::Key& instance,
                                                       const std::map<std::string, std::string>& data) {
  const std::string name = ConnectionSecretName(instance);
  json secret = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"type", "Opaque"}};
  json& md = secret["metadata"];
  md["name"] = name;
  md["namespace"] = instance.namespace_;
  md["labels"] = {{"redisfleet.io/instance", instance.namespace_ + "." + instance.name}};
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

  auto created = client_->Create(SecretPath(instance.namespace_), secret);
  if (created) return name;
  if (created.error().code() != StatusCode::kAlreadyExists) return created.error();
  // Replace: conditional on the current resourceVersion; a concurrent writer gets one retry.
  Status last = Status::Ok();
  for (int attempt = 0; attempt < 2; ++attempt) {
    RF_ASSIGN_OR_RETURN(json current, client_->Get(SecretPath(instance.namespace_, name)));
    json next = current;
    next["data"] = secret["data"];
    next.erase("stringData");
    next["type"] = current.value("type", "Opaque");
    next["metadata"]["labels"] = current["metadata"].value("labels", json::object());
    for (auto& [k, v] : md["labels"].items()) next["metadata"]["labels"][k] = v;
    if (md.contains("ownerReferences")) next["metadata"]["ownerReferences"] = md["ownerReferences"];
    auto updated = client_->Update(SecretPath(instance.namespace_, name), next);
    if (updated) return name;
    last = updated.error();
    if (last.code() != StatusCode::kConflict) return last;
  }
  return last;
}

Status KubeSecretStore::DeleteConnection(const api::Key& instance) {
  auto deleted = client_->Delete(SecretPath(instance.namespace_, ConnectionSecretName(instance)));
  if (!deleted && deleted.error().code() != StatusCode::kNotFound) return deleted.error();
  return Status::Ok();
}

}  // namespace redisfleet::store
