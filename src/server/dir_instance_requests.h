#pragma once
// Self-service requests in standalone mode: each requested RedisInstance is a YAML file in the
// DirStore's generated_dir (under the state dir, never the user's YAML dir), scanned at once.

#include <memory>
#include <mutex>
#include <string>

#include "server/self_service.h"
#include "store/dir_store.h"

namespace redisfleet::server {

// Thread-safe.
class DirInstanceRequests final : public InstanceRequests {
 public:
  // `dir` must be the store's Options::generated_dir.
  DirInstanceRequests(std::shared_ptr<store::DirStore> store, std::string dir);

  // Writes <dir>/<ns>.<name>.yaml atomically and rescans. AlreadyExists when the store or the
  // directory already has that name.
  Status Create(const api::RedisInstance& ri) override;
  // Removes the file and rescans (the store then deletes the object, cleanup first). NotFound
  // when there is no such request.
  Status Delete(const api::Key& key) override;

 private:
  std::string PathOf(const api::Key& key) const;

  std::shared_ptr<store::DirStore> store_;
  std::string dir_;
  std::mutex mu_;
};

}  // namespace redisfleet::server
