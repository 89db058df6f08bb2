#pragma once
// SecretStore implementations: FileSecretStore (standalone mode, plain files) and
// MemorySecretStore (tests and benchmarks).

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "api/types.h"
#include "common/status.h"
#include "store/object_util.h"
#include "store/secrets.h"

namespace redisfleet::store {

// Reads <dir>/secrets/<ref.name>/<ref.key> (the namespace is not part of the path in
// standalone mode; trailing newlines are trimmed). Connection secrets live in
// <state_dir>/secrets/<ns>.<name>/ (directory 0700): `password` (0600, exactly the password)
// and `connection.json` (0600, every key of the data; port as a number; absent while the data
// is the password alone). Files whose content would not change are not rewritten. Errors name paths,
// never values. Thread-safe (each call touches its own files; writes are atomic).
//
// Connection secrets are the operator's own files, so it remembers, per instance, a digest of the
// data it last wrote and the identity (inode, size, mtime, ctime) each file had just after: a
// write of the same data to files still as it left them touches nothing but two stat(2)s.
// A file removed, replaced, re-moded or edited since is noticed by its identity and written again
// (short of an edit that keeps the size within the same timestamp tick as our write). The cache
// holds no secret and only caches the disk: after a restart the first write compares contents.
class FileSecretStore final : public SecretStore {
 public:
  FileSecretStore(std::string dir, std::string state_dir);

  // NotFound naming the file; InvalidArgument when the ref's name or key is not a plain file
  // name (empty, ".", "..", or with a '/').
  StatusOr<std::string> Read(const std::string& namespace_, const api::SecretKeyRef& ref) override;
  // The data of connection.json (or just the password), every value as a string. NotFound when
  // there is none.
  StatusOr<std::map<std::string, std::string>> ReadConnection(const api::Key& instance) override;
  // Writes password and connection.json; returns the password file's absolute path (as of
  // construction when state_dir is relative). InvalidArgument when `data` has no "password".
  StatusOr<std::string> WriteConnection(const api::Key& instance,
                                        const std::map<std::string, std::string>& data) override;
  // Removes the instance's secrets directory; OK if absent.
  Status DeleteConnection(const api::Key& instance) override;

 private:
  // What this process last wrote for one instance.
  struct Written {
    Fingerprint data;           // of every key and value
    uint64_t password = 0;      // digest of the password alone
    uint64_t password_file = 0;  // FileIdentity of `password` just after
    uint64_t json_file = 0;      // of connection.json; 0 = absent
  };
  StatusOr<std::string> ConnectionDir(const api::Key& instance) const;
  std::mutex& StripeOf(const api::Key& instance);

  std::string dir_;
  std::string state_dir_;
  std::string absolute_state_dir_;
  std::array<std::mutex, 64> stripes_;  // one write per instance at a time (by key hash)
  std::mutex mu_;                        // guards written_
  std::map<api::Key, Written> written_;
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
