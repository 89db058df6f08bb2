#pragma once
// Redis connection URLs: redis://[user[:password]@]host[:port][/db] and rediss://... (TLS).
// Error messages and RedactUrl never carry the password.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "redis/client.h"
#include "redis/tls_transport.h"

namespace redisfleet::redis {

struct RedisUrl {
  ConnectOptions options;  // host, port (default 6379), username, password (percent-decoded), db
  bool tls = false;        // rediss://
};

// Parses a redis:// or rediss:// URL. IPv6 hosts in brackets ("[::1]"). kInvalidArgument for
// another scheme, a bad port or db, a malformed percent escape, or a query/fragment part.
StatusOr<RedisUrl> ParseRedisUrl(std::string_view url);

// The URL with the password replaced by "***" ("redis://u:***@h:6379/0"); other text unchanged.
std::string RedactUrl(std::string_view url);

// Opens a transport for `options` (TCP, or TLS with `tls_options` when `tls`) and authenticates
// (AUTH user password when a user is given: an ACL user). Errors as RedisClient::Open and
// ConnectTcp/ConnectTls.
// `contexts` (may be null) shares TLS contexts between connections.
StatusOr<std::unique_ptr<RedisClient>> Connect(const ConnectOptions& options, bool tls,
                                               const TlsOptions& tls_options,
                                               TlsContextCache* contexts = nullptr);

// ParseRedisUrl, then Connect with `timeout`.
StatusOr<std::unique_ptr<RedisClient>> ConnectUrl(std::string_view url, const TlsOptions& tls_options,
                                                  std::chrono::milliseconds timeout);

}  // namespace redisfleet::redis
