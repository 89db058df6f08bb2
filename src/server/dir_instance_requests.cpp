#include "server/dir_instance_requests.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "api/codec.h"
#include "common/fs.h"

namespace redisfleet::server {

DirInstanceRequests::DirInstanceRequests(std::shared_ptr<store::DirStore> store, std::string dir)
    : store_(std::move(store)), dir_(std::move(dir)) {}

std::string DirInstanceRequests::PathOf(const api::Key& key) const {
  return dir_ + "/" + key.Dotted() + ".yaml";
}

Status DirInstanceRequests::Create(const api::RedisInstance& ri) {
  std::lock_guard<std::mutex> lock(mu_);
  const api::Key key = ri.metadata.key();
  if (store_->Get(api::Kind::kRedisInstance, key).ok() || std::filesystem::exists(PathOf(key))) {
    return AlreadyExistsError("RedisInstance " + key.ToString() + " already exists");
  }
  api::RedisInstance clean = ri;
  clean.status = {};
  RF_RETURN_IF_ERROR(MakeDirs(dir_, 0700));
  RF_RETURN_IF_ERROR(WriteFileAtomic(PathOf(key), api::ToYaml(clean)));
  return store_->Rescan();
}

Status DirInstanceRequests::Delete(const api::Key& key) {
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  if (!std::filesystem::remove(PathOf(key), ec)) {
    if (ec) return UnavailableError("cannot remove the request " + key.ToString() + ": " + ec.message());
    return NotFoundError("no self-service request " + key.ToString());
  }
  return store_->Rescan();
}

}  // namespace redisfleet::server
