#pragma once
// Helpers the stores share to treat api::Object uniformly (internal to src/store).

#include <cstdint>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "api/types.h"
#include "common/status.h"

namespace redisfleet::store {

// Index of `kind` in per-kind arrays (0..2).
inline std::size_t KindIndex(api::Kind kind) { return static_cast<std::size_t>(kind); }

// The conditions of the object's status, whatever its kind.
std::vector<api::Condition>& ConditionsOf(api::Object& o);
const std::vector<api::Condition>& ConditionsOf(const api::Object& o);

// Sets `to`'s status to `from`'s. Both must hold the same kind (else returns false, no change).
bool CopyStatus(const api::Object& from, api::Object& to);
// Sets `to`'s spec to `from`'s. Same kind rule as CopyStatus.
bool CopySpec(const api::Object& from, api::Object& to);
// "RedisInstance ns/name", for messages.
std::string Describe(api::Kind kind, const api::Key& key);
// OK when `given` is the current version of `stored` (same resourceVersion, and same uid when
// `given` has one); else Conflict naming both versions. Both stores' optimistic concurrency.
Status CheckCurrent(api::Kind kind, const api::ObjectMeta& stored, const api::ObjectMeta& given);

// Resets the status to the kind's default.
void ResetStatus(api::Object& o);

// A 128-bit digest of SpecToJson(o) (two independent 64-bit hashes), for change detection:
// kept per object instead of the spec's text, so 10,000 objects cost 160 kB, not megabytes.
struct Fingerprint {
  uint64_t a = 0, b = 0;
  bool operator==(const Fingerprint&) const = default;
};
Fingerprint SpecFingerprint(const api::Object& o);
// The same digest of any text.
Fingerprint FingerprintOf(std::string_view text);
// The same digest of the labels and annotations.
Fingerprint MetaFingerprint(const api::ObjectMeta& meta);

}  // namespace redisfleet::store
