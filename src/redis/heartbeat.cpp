#include "redis/heartbeat.h"

#include <cctype>
#include <charconv>
#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace redisfleet::redis {
namespace {

using nlohmann::json;

constexpr int kDefaultPort = 6379;

Status BadField(std::string_view field, std::string_view what) {
  return InvalidArgumentError("heartbeat: field \"" + std::string(field) + "\": " + std::string(what));
}

StatusOr<std::string> StringField(const json& j, const char* field, bool allow_empty) {
  auto it = j.find(field);
  if (it == j.end()) return BadField(field, "missing");
  if (!it->is_string()) return BadField(field, "want a string");
  std::string s = it->get<std::string>();
  if (s.empty() && !allow_empty) return BadField(field, "empty");
  return s;
}

StatusOr<int64_t> CountField(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end()) return BadField(field, "missing");
  if (!it->is_number_integer()) return BadField(field, "want a non-negative integer");
  if (it->is_number_unsigned()) {
    if (it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return BadField(field, "out of range");
    }
    return static_cast<int64_t>(it->get<uint64_t>());
  }
  int64_t v = it->get<int64_t>();
  if (v < 0) return BadField(field, "want a non-negative integer");
  return v;
}

// Decodes %XX escapes; nullopt for a malformed escape.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const auto hi = static_cast<unsigned char>(s[i + 1]);
    const auto lo = static_cast<unsigned char>(s[i + 2]);
    if (!std::isxdigit(hi) || !std::isxdigit(lo)) return std::nullopt;
    auto nibble = [](unsigned char c) { return std::isdigit(c) ? c - '0' : std::tolower(c) - 'a' + 10; };
    out += static_cast<char>(nibble(hi) * 16 + nibble(lo));
    i += 2;
  }
  return out;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsSchemeText(std::string_view s) {
  if (s.empty() || s.size() > 16) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

Status UrlError(std::string what) { return InvalidArgumentError("redis URL: " + std::move(what)); }

}  // namespace

std::string EncodeBeat(const HostBeat& beat) {
  nlohmann::ordered_json j;
  j["name"] = beat.name;
  j["address"] = beat.address;
  j["dockerEndpoint"] = beat.docker_endpoint;
  j["containers"] = beat.containers;
  j["memoryMiBUsed"] = beat.memory_mib_used;
  j["memoryMiBTotal"] = beat.memory_mib_total;
  j["agentVersion"] = beat.agent_version;
  j["at"] = FormatTime(beat.at);
  // Invalid UTF-8 is replaced rather than thrown.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

StatusOr<HostBeat> DecodeBeat(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return InvalidArgumentError("heartbeat: value is not JSON");
  if (!j.is_object()) return InvalidArgumentError("heartbeat: value is not a JSON object");
  HostBeat b;
  RF_ASSIGN_OR_RETURN(b.name, StringField(j, "name", false));
  RF_ASSIGN_OR_RETURN(b.address, StringField(j, "address", false));
  RF_ASSIGN_OR_RETURN(b.docker_endpoint, StringField(j, "dockerEndpoint", true));
  RF_ASSIGN_OR_RETURN(b.containers, CountField(j, "containers"));
  RF_ASSIGN_OR_RETURN(b.memory_mib_used, CountField(j, "memoryMiBUsed"));
  RF_ASSIGN_OR_RETURN(b.memory_mib_total, CountField(j, "memoryMiBTotal"));
  RF_ASSIGN_OR_RETURN(b.agent_version, StringField(j, "agentVersion", true));
  RF_ASSIGN_OR_RETURN(std::string at, StringField(j, "at", false));
  std::optional<TimePoint> t = ParseTime(at);
  if (!t) return BadField("at", "want an RFC 3339 time");
  b.at = *t;
  return b;
}

StatusOr<ConnectOptions> ParseRedisUrl(const std::string& url) {
  const std::size_t sep = url.find("://");
  if (sep == std::string::npos) return UrlError("want redis://[user[:password]@]host[:port][/db]");
  std::string scheme = url.substr(0, sep);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "rediss") return InvalidArgumentError("rediss not supported yet");
  if (scheme != "redis") {
    // The text before "://" is echoed only when it looks like a scheme (it might be a password).
    return UrlError(IsSchemeText(scheme) ? "unsupported scheme \"" + scheme + "\"; want redis://"
                                         : "want redis://[user[:password]@]host[:port][/db]");
  }
  const std::string_view rest = std::string_view(url).substr(sep + 3);
  // The last '@' ends the userinfo, so an unescaped '@', '/' or '?' in a password never leaks
  // into the host part (nor into a message).
  const std::size_t at = rest.rfind('@');
  const std::string_view userinfo = at == std::string_view::npos ? std::string_view() : rest.substr(0, at);
  const std::string_view hostpart = at == std::string_view::npos ? rest : rest.substr(at + 1);
  if (hostpart.find_first_of("?#") != std::string_view::npos) {
    return UrlError("query parameters and fragments are not supported");
  }
  const std::size_t slash = hostpart.find('/');
  const std::string_view authority = hostpart.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? std::string_view() : hostpart.substr(slash + 1);

  ConnectOptions o;
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return UrlError("unclosed '[' in host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return UrlError("unexpected text after ']' in host");
      port = after.substr(1);
      if (port.empty()) return UrlError("empty port");
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return UrlError("IPv6 hosts need brackets: [::1]:6379");
    if (port.empty()) return UrlError("empty port");
  }
  if (host.empty()) return UrlError("no host");
  o.host = std::string(host);
  o.port = kDefaultPort;
  if (!port.empty()) {
    int p = 0;
    if (!AllDigits(port) || port.size() > 5) return UrlError("port \"" + std::string(port) + "\" is not a number");
    std::from_chars(port.data(), port.data() + port.size(), p);
    if (p < 1 || p > 65535) return UrlError("port " + std::string(port) + " is out of range 1-65535");
    o.port = p;
  }
  if (!path.empty()) {
    if (!AllDigits(path) || path.size() > 9) {
      return UrlError("database \"" + std::string(path) + "\" is not a non-negative number");
    }
    std::from_chars(path.data(), path.data() + path.size(), o.db);
  }
  if (!userinfo.empty()) {
    const std::size_t colon = userinfo.find(':');
    std::optional<std::string> user = PercentDecode(userinfo.substr(0, colon));
    if (!user) return UrlError("bad percent-escape in the username");
    if (colon == std::string_view::npos) {
      if (!user->empty()) return UrlError("a username needs a password (redis://user:password@host)");
    } else {
      std::optional<std::string> password = PercentDecode(userinfo.substr(colon + 1));
      if (!password) return UrlError("bad percent-escape in the password");
      if (password->empty() && !user->empty()) {
        return UrlError("a username needs a password (redis://user:password@host)");
      }
      o.username = std::move(*user);
      o.password = std::move(*password);
    }
  }
  return o;
}

std::string EscapeGlob(std::string_view prefix) {
  std::string out;
  out.reserve(prefix.size() + 8);
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

HeartbeatRegistry::HeartbeatRegistry(std::string url, std::chrono::milliseconds timeout)
    : options_(ParseRedisUrl(url)) {
  if (options_.ok()) options_->timeout = timeout;
}

StatusOr<RedisClient*> HeartbeatRegistry::ClientLocked() {
  if (!options_.ok()) return options_.status();
  if (client_ == nullptr) {
    RF_ASSIGN_OR_RETURN(client_, RedisClient::Connect(*options_));
  }
  return client_.get();
}

StatusOr<Reply> HeartbeatRegistry::CommandLocked(const std::vector<std::string>& argv) {
  RF_ASSIGN_OR_RETURN(RedisClient * client, ClientLocked());
  StatusOr<Reply> reply = client->Command(argv);
  if (!reply.ok()) client_.reset();  // the transport is unusable after a failure
  return reply;
}

Status HeartbeatRegistry::Publish(const std::string& prefix, const HostBeat& beat,
                                  std::chrono::seconds ttl) {
  if (beat.name.empty()) return InvalidArgumentError("heartbeat: publish needs a host name");
  if (ttl < std::chrono::seconds(1)) return InvalidArgumentError("heartbeat: ttl must be at least 1s");
  const std::string key = prefix + beat.name;
  std::lock_guard<std::mutex> lock(mu_);
  RF_ASSIGN_OR_RETURN(Reply reply,
                      CommandLocked({"SET", key, EncodeBeat(beat), "EX", std::to_string(ttl.count())}));
  if (reply.IsError()) return ErrorReplyToStatus(reply.str, "heartbeat SET " + key + " on redis " + client_->peer());
  return Status::Ok();
}

StatusOr<HeartbeatRegistry::ScanResult> HeartbeatRegistry::Scan(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string pattern = EscapeGlob(prefix) + "*";
  std::set<std::string> found;  // SCAN may return a key more than once
  std::string cursor = "0";
  do {
    RF_ASSIGN_OR_RETURN(Reply reply, CommandLocked({"SCAN", cursor, "MATCH", pattern, "COUNT", "500"}));
    if (reply.IsError()) return ErrorReplyToStatus(reply.str, "heartbeat SCAN on redis " + client_->peer());
    if (reply.type != Reply::Type::kArray || reply.elements.size() != 2 ||
        reply.elements[0].type != Reply::Type::kString ||
        reply.elements[1].type != Reply::Type::kArray) {
      return InternalError("heartbeat SCAN on redis " + client_->peer() + ": unexpected reply shape");
    }
    cursor = reply.elements[0].str;
    for (const Reply& k : reply.elements[1].elements) {
      if (k.type == Reply::Type::kString && k.str.compare(0, prefix.size(), prefix) == 0) found.insert(k.str);
    }
  } while (cursor != "0");

  ScanResult out;
  auto take = [&](const std::string& key, const std::string& value) {
    std::string name = key.substr(prefix.size());
    StatusOr<HostBeat> beat = DecodeBeat(value);
    if (!beat.ok()) {
      out.unparsable[name] = beat.status().message();
    } else if (beat->name != name) {
      out.unparsable[name] = "heartbeat: field \"name\" differs from the key's host name";
    } else {
      out.hosts[name] = std::move(*beat);
    }
  };
  const std::vector<std::string> keys(found.begin(), found.end());
  std::vector<std::string> vanished;  // nil in MGET: deleted meanwhile, or not a string
  for (std::size_t start = 0; start < keys.size(); start += kMgetBatch) {
    const std::size_t end = std::min(keys.size(), start + kMgetBatch);
    std::vector<std::string> argv = {"MGET"};
    argv.insert(argv.end(), keys.begin() + static_cast<std::ptrdiff_t>(start),
                keys.begin() + static_cast<std::ptrdiff_t>(end));
    RF_ASSIGN_OR_RETURN(Reply reply, CommandLocked(argv));
    if (reply.IsError()) return ErrorReplyToStatus(reply.str, "heartbeat MGET on redis " + client_->peer());
    if (reply.type != Reply::Type::kArray || reply.elements.size() != end - start) {
      return InternalError("heartbeat MGET on redis " + client_->peer() + ": unexpected reply shape");
    }
    for (std::size_t i = start; i < end; ++i) {
      const Reply& v = reply.elements[i - start];
      if (v.type == Reply::Type::kString) {
        take(keys[i], v.str);
      } else {
        vanished.push_back(keys[i]);
      }
    }
  }
  // MGET answers nil for a key of another type too: GET tells that (WRONGTYPE) from deleted.
  for (const std::string& key : vanished) {
    RF_ASSIGN_OR_RETURN(Reply reply, CommandLocked({"GET", key}));
    if (reply.type == Reply::Type::kString) {
      take(key, reply.str);
    } else if (reply.IsError() && reply.str.rfind("WRONGTYPE", 0) == 0) {
      out.unparsable[key.substr(prefix.size())] = "heartbeat: value is not a string";
    } else if (reply.IsError()) {
      return ErrorReplyToStatus(reply.str, "heartbeat GET " + key + " on redis " + client_->peer());
    }
  }
  return out;
}

Status HeartbeatRegistry::Remove(const std::string& prefix, const std::string& name) {
  if (name.empty()) return InvalidArgumentError("heartbeat: remove needs a host name");
  const std::string key = prefix + name;
  std::lock_guard<std::mutex> lock(mu_);
  RF_ASSIGN_OR_RETURN(Reply reply, CommandLocked({"DEL", key}));
  if (reply.IsError()) return ErrorReplyToStatus(reply.str, "heartbeat DEL " + key + " on redis " + client_->peer());
  return Status::Ok();
}

}  // namespace redisfleet::redis
