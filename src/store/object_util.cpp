#include "store/object_util.h"

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

void ResetStatus(api::Object& o) {
  std::visit([](auto& v) { v.status = {}; }, o);
}

std::string SpecFingerprint(const api::Object& o) {
  return api::SpecToJson(o).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace redisfleet::store
