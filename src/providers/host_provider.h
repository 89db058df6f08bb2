#pragma once
// Machines of a pool: DigitalOcean droplets, static hosts, or this machine.

#include <vector>

#include "common/status.h"
#include "providers/types.h"

namespace redisfleet::providers {

// Thread-safe.
class HostProvider {
 public:
  virtual ~HostProvider() = default;
  // Idempotent by spec.name + owner labels: creating an existing host returns it.
  // Unimplemented for providers whose hosts are fixed (local, static).
  virtual StatusOr<Host> Create(const HostSpec& spec) = 0;
  // The pool's hosts, found by owner labels/tags (or the fixed list).
  virtual StatusOr<std::vector<Host>> List(const PoolRef& pool) = 0;
  // OK when the host is gone, NotFound counted as gone.
  virtual Status Delete(const Host& host) = 0;
  // True when Create and Delete make and destroy machines (the pool then scales itself).
  virtual bool Elastic() const { return false; }
  // Every machine carrying this operator's ownership tag, whatever pool it names (labels[
  // kLabelPool] = "<ns>.<name>", empty when unreadable): how machines of deleted pools are found.
  // Unimplemented for providers whose hosts are fixed.
  virtual StatusOr<std::vector<Host>> ListAll() {
    return UnimplementedError("this provider has no machines of its own");
  }
};

}  // namespace redisfleet::providers
