#include "redis/info.h"

#include <charconv>
#include <cstdlib>

namespace redisfleet::redis {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> ToInt(std::string_view s) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

const std::string* InfoMap::Find(std::string_view field) const {
  auto it = fields.find(field);
  return it == fields.end() ? nullptr : &it->second;
}

std::optional<int64_t> InfoMap::GetInt(std::string_view field) const {
  const std::string* v = Find(field);
  if (v == nullptr) return std::nullopt;
  return ToInt(*v);
}

std::optional<double> InfoMap::GetDouble(std::string_view field) const {
  const std::string* v = Find(field);
  if (v == nullptr) return std::nullopt;
  std::string_view s = Trim(*v);
  double d = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return d;
}

InfoMap ParseInfo(std::string_view text) {
  InfoMap info;
  std::string section;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.front() == '#') {
      section = std::string(Trim(line.substr(1)));
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string name(Trim(line.substr(0, colon)));
    if (name.empty()) continue;
    auto [it, inserted] = info.fields.insert_or_assign(name, std::string(line.substr(colon + 1)));
    if (inserted) info.sections[section].push_back(it->first);
  }
  return info;
}

std::map<std::string, std::string> ParseInfoList(std::string_view value) {
  std::map<std::string, std::string> out;
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    out.insert_or_assign(std::string(Trim(item.substr(0, eq))), std::string(Trim(item.substr(eq + 1))));
  }
  return out;
}

int64_t TotalKeys(const InfoMap& info) {
  int64_t total = 0;
  for (const auto& [name, value] : info.fields) {
    if (name.size() < 3 || name.compare(0, 2, "db") != 0) continue;
    if (!ToInt(std::string_view(name).substr(2)).has_value()) continue;
    auto items = ParseInfoList(value);
    auto it = items.find("keys");
    if (it == items.end()) continue;
    if (auto n = ToInt(it->second); n.has_value() && *n > 0) total += *n;
  }
  return total;
}

RedisStats StatsFromInfo(const InfoMap& info) {
  auto get = [&info](std::string_view field) { return info.GetInt(field).value_or(-1); };
  RedisStats s;
  s.used_memory = get("used_memory");
  s.used_memory_rss = get("used_memory_rss");
  s.maxmemory = get("maxmemory");
  s.connected_clients = get("connected_clients");
  s.maxclients = get("maxclients");
  s.evicted_keys = get("evicted_keys");
  s.rejected_connections = get("rejected_connections");
  s.instantaneous_ops_per_sec = get("instantaneous_ops_per_sec");
  if (const std::string* p = info.Find("maxmemory_policy")) s.maxmemory_policy = std::string(Trim(*p));
  return s;
}

}  // namespace redisfleet::redis
