#include "api/types.h"

#include <algorithm>
#include <cctype>

namespace redisfleet::api {

std::string_view KindPlural(Kind kind) {
  switch (kind) {
    case Kind::kHostPool: return "hostpools";
    case Kind::kRedisInstance: return "redisinstances";
    case Kind::kScalingPolicy: return "scalingpolicies";
  }
  return "";
}

std::optional<Kind> ParseKindName(std::string_view s) {
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower == "hostpool" || lower == "hostpools" || lower == "hp") return Kind::kHostPool;
  if (lower == "redisinstance" || lower == "redisinstances" || lower == "ri")
    return Kind::kRedisInstance;
  if (lower == "scalingpolicy" || lower == "scalingpolicies" || lower == "sp")
    return Kind::kScalingPolicy;
  return std::nullopt;
}

Key Key::Parse(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return Key{std::string(kDefaultNamespace), std::string(s)};
  return Key{std::string(s.substr(0, slash)), std::string(s.substr(slash + 1))};
}

bool SetCondition(std::vector<Condition>& conditions, Condition c, TimePoint now) {
  for (auto& existing : conditions) {
    if (existing.type != c.type) continue;
    if (existing.status == c.status) {
      c.last_transition_time = existing.last_transition_time;
    } else {
      c.last_transition_time = now;
    }
    if (existing == c) return false;
    existing = std::move(c);
    return true;
  }
  c.last_transition_time = now;
  conditions.push_back(std::move(c));
  return true;
}

const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const auto& c : conditions)
    if (c.type == type) return &c;
  return nullptr;
}

bool IsConditionTrue(const std::vector<Condition>& conditions, std::string_view type) {
  const Condition* c = FindCondition(conditions, type);
  return c != nullptr && c->status == "True";
}

bool Selects(const TargetRef& t, const RedisInstance& ri) {
  if (!t.name.empty()) return t.name == ri.metadata.name;
  if (t.match_labels.empty()) return false;
  for (const auto& [k, v] : t.match_labels) {
    auto it = ri.metadata.labels.find(k);
    if (it == ri.metadata.labels.end() || it->second != v) return false;
  }
  return true;
}

Kind KindOf(const Object& o) {
  return std::visit([](const auto& v) { return std::decay_t<decltype(v)>::kKind; }, o);
}

ObjectMeta& MetaOf(Object& o) {
  return std::visit([](auto& v) -> ObjectMeta& { return v.metadata; }, o);
}

const ObjectMeta& MetaOf(const Object& o) {
  return std::visit([](const auto& v) -> const ObjectMeta& { return v.metadata; }, o);
}

}  // namespace redisfleet::api
