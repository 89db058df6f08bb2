#include "redis/url.h"

#include <charconv>

namespace redisfleet::redis {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

bool ParseInt(std::string_view s, int min, int max, int* out) {
  if (s.empty()) return false;
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return false;
  *out = v;
  return true;
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  std::string out(url);
  std::size_t scheme = out.find("://");
  if (scheme == std::string::npos) return out;
  std::size_t start = scheme + 3;
  std::size_t end = out.find_first_of("/?#", start);
  if (end == std::string::npos) end = out.size();
  std::size_t at = out.rfind('@', end);
  if (at == std::string::npos || at < start) return out;
  std::size_t colon = out.find(':', start);
  if (colon == std::string::npos || colon > at) return out;
  out.replace(colon + 1, at - colon - 1, "***");
  return out;
}

StatusOr<RedisUrl> ParseRedisUrl(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("redis URL '" + RedactUrl(url) + "': " + std::string(why));
  };
  RedisUrl out;
  std::string_view rest;
  if (url.substr(0, 8) == "redis://") {
    rest = url.substr(8);
  } else if (url.substr(0, 9) == "rediss://") {
    rest = url.substr(9);
    out.tls = true;
  } else {
    return bad("scheme must be redis:// or rediss://");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) return bad("query and fragment are not supported");
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);

  std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    std::size_t colon = userinfo.find(':');
    std::string_view user = userinfo.substr(0, colon);
    if (!PercentDecode(user, &out.options.username)) return bad("bad percent escape in user");
    if (colon != std::string_view::npos &&
        !PercentDecode(userinfo.substr(colon + 1), &out.options.password)) {
      return bad("bad percent escape in password");
    }
  }

  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated [ in host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("unexpected text after ]");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else {
    std::size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) return bad("empty port");
    }
  }
  if (host.empty()) return bad("missing host");
  out.options.host = std::string(host);
  if (!port.empty() && !ParseInt(port, 1, 65535, &out.options.port)) return bad("bad port");
  if (!path.empty() && !ParseInt(path, 0, 1 << 20, &out.options.db)) return bad("bad db index");
  return out;
}

StatusOr<std::unique_ptr<RedisClient>> Connect(const ConnectOptions& options, bool tls,
                                               const TlsOptions& tls_options, TlsContextCache* contexts) {
  std::unique_ptr<RedisTransport> transport;
  if (tls) {
    RF_ASSIGN_OR_RETURN(transport, ConnectTls(options.host, options.port, tls_options, options.timeout, contexts));
  } else {
    RF_ASSIGN_OR_RETURN(transport, ConnectTcp(options.host, options.port, options.timeout));
  }
  return RedisClient::Open(std::move(transport), options);
}

StatusOr<std::unique_ptr<RedisClient>> ConnectUrl(std::string_view url, const TlsOptions& tls_options,
                                                  std::chrono::milliseconds timeout) {
  RF_ASSIGN_OR_RETURN(RedisUrl parsed, ParseRedisUrl(url));
  parsed.options.timeout = timeout;
  return Connect(parsed.options, parsed.tls, tls_options);
}

}  // namespace redisfleet::redis
