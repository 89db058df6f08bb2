#pragma once
// SecretStore implementations: FileSecretStore (standalone mode, plain files) and
// MemorySecretStore (tests and benchmarks).

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "api/types.h"
#include "common/status.h"
#include "store/secrets.h"

namespace redisfleet::store {

// Reads <dir>/secrets/<ref.name>/<ref.key> (the namespace is not part of the path in
// standalone mode; trailing newlines are trimmed). Connection secrets live in
// <state_dir>/secrets/<ns>.<name>/ (directory 0700): `password` (0600, exactly the password)
// and `connection.json` (0600, every key of the data; port as a number; absent while the data
// is the password alone). Files whose content would not change are not rewritten. Errors name paths,
// never values. Thread-safe (each call touches its own files; writes are atomic).
class FileSecretStore final : public SecretStore {
 public:
  FileSecretStore(std::string dir, std::string state_dir);

  // NotFound naming the file; InvalidArgument when the ref's name or key is not a plain file
  // name (empty, ".", "..", or with a '/').
  StatusOr<std::string> Read(const std::string& namespace_, const api::SecretKeyRef& ref) override;
  // The data of connection.json (or just the password), every value as a string. NotFound when
  // there is none.
  StatusOr<std::map<std::string, std::string>> ReadConnection(const api::Key& instance) override;
  // Writes password and connection.json; returns the password file's absolute path.
  // InvalidArgument when `data` has no "password".
  StatusOr<std::string> WriteConnection(const api::Key& instance,
                                        const std::map<std::string, std::string>& data) override;
  // Removes the instance's secrets directory; OK if absent.
  Status DeleteConnection(const api::Key& instance) override;

 private:
  StatusOr<std::string> ConnectionDir(const api::Key& instance) const;

  std::string dir_;
  std::string state_dir_;
};

// Map-backed SecretStore. WriteConnection returns "memory:<ns>.<name>". Thread-safe.
class MemorySecretStore final : public SecretStore {
 public:
  // Sets the value `ref` points at in `namespace_`.
  void Put(const std::string& namespace_, const api::SecretKeyRef& ref, std::string value);

  StatusOr<std::string> Read(const std::string& namespace_, const api::SecretKeyRef& ref) override;
  StatusOr<std::map<std::string, std::string>> ReadConnection(const api::Key& instance) override;
  StatusOr<std::string> WriteConnection(const api::Key& instance,
                                        const std::map<std::string, std::string>& data) override;
  Status DeleteConnection(const api::Key& instance) override;

 private:
  struct RefKey {
    std::string namespace_;
    std::string name;
    std::string key;
    friend auto operator<=>(const RefKey&, const RefKey&) = default;
  };
  std::mutex mu_;
  std::map<RefKey, std::string> values_;
  std::map<api::Key, std::map<std::string, std::string>> connections_;
};

}  // namespace redisfleet::store
