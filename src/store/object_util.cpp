#include "store/object_util.h"

#include <functional>

#include <type_traits>
#include <variant>

#include "api/codec.h"

namespace redisfleet::store {

std::vector<api::Condition>& ConditionsOf(api::Object& o) {
  return std::visit([](auto& v) -> std::vector<api::Condition>& { return v.status.conditions; }, o);
}

const std::vector<api::Condition>& ConditionsOf(const api::Object& o) {
  return std::visit(
      [](const auto& v) -> const std::vector<api::Condition>& { return v.status.conditions; }, o);
}

bool CopyStatus(const api::Object& from, api::Object& to) {
  if (from.index() != to.index()) return false;
  std::visit(
      [&from](auto& dst) {
        using T = std::decay_t<decltype(dst)>;
        dst.status = std::get<T>(from).status;
      },
      to);
  return true;
}

bool CopySpec(const api::Object& from, api::Object& to) {
  if (from.index() != to.index()) return false;
  std::visit(
      [&from](auto& dst) {
        using T = std::decay_t<decltype(dst)>;
        dst.spec = std::get<T>(from).spec;
      },
      to);
  return true;
}

std::string Describe(api::Kind kind, const api::Key& key) {
  return std::string(api::EnumName(kind)) + " " + key.ToString();
}

Status CheckCurrent(api::Kind kind, const api::ObjectMeta& stored, const api::ObjectMeta& given) {
  if (given.resource_version != stored.resource_version ||
      (!given.uid.empty() && given.uid != stored.uid)) {
    return ConflictError(Describe(kind, given.key()) + " was modified (resourceVersion " +
                         stored.resource_version + ", got " + given.resource_version + ")");
  }
  return Status::Ok();
}

void ResetStatus(api::Object& o) {
  std::visit([](auto& v) { v.status = {}; }, o);
}

Fingerprint FingerprintOf(std::string_view text) {
  uint64_t fnv = 14695981039346656037ull;  // FNV-1a 64
  for (unsigned char c : text) {
    fnv ^= c;
    fnv *= 1099511628211ull;
  }
  return Fingerprint{fnv, std::hash<std::string_view>{}(text)};  // libstdc++: murmur-style
}

Fingerprint SpecFingerprint(const api::Object& o) {
  return FingerprintOf(
      api::SpecToJson(o).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Fingerprint MetaFingerprint(const api::ObjectMeta& meta) {
  std::string text;
  for (const auto* map : {&meta.labels, &meta.annotations}) {
    for (const auto& [key, value] : *map) {
      text += key;
      text += '\0';
      text += value;
      text += '\0';
    }
    text += '\1';
  }
  return FingerprintOf(text);
}

}  // namespace redisfleet::store
