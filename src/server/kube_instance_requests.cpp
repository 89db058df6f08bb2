#include "server/kube_instance_requests.h"

#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "api/codec.h"
#include "store/kube_store.h"

namespace redisfleet::server {

KubeInstanceRequests::KubeInstanceRequests(std::shared_ptr<kube::KubeClient> client,
                                           std::shared_ptr<store::ObjectStore> store,
                                           std::chrono::milliseconds visible_within)
    : client_(std::move(client)), store_(std::move(store)), visible_within_(visible_within) {}

Status KubeInstanceRequests::Create(const api::RedisInstance& ri) {
  nlohmann::json object = api::ToJson(api::Object(ri));
  object.erase("status");
  RF_ASSIGN_OR_RETURN(nlohmann::json created,
                      client_->Create(store::KindPath(api::Kind::kRedisInstance, ri.metadata.namespace_), object));
  const std::string uid = created["metadata"].value("uid", "");
  // The watch brings it within milliseconds; until then a GET of it would say 404.
  const auto deadline = std::chrono::steady_clock::now() + visible_within_;
  while (std::chrono::steady_clock::now() < deadline) {
    auto got = store_->Get(api::Kind::kRedisInstance, ri.metadata.key());
    if (got && api::MetaOf(*got).uid == uid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Status::Ok();
}

Status KubeInstanceRequests::Delete(const api::Key& key) {
  auto deleted = client_->Delete(store::KindPath(api::Kind::kRedisInstance, key.namespace_).Named(key.name));
  if (!deleted) return deleted.error();
  return Status::Ok();
}

}  // namespace redisfleet::server
