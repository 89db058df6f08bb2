#pragma once
// Secret redaction: nothing that looks like a credential reaches logs, metrics or errors.

#include <string>
#include <string_view>

namespace redisfleet {

inline constexpr std::string_view kRedacted = "[REDACTED]";

// True for field names that hold credentials: password, token, secret, apikey, api_key,
// authorization, credentials (case-insensitive, anywhere in the name).
bool IsSecretKey(std::string_view key);

// "redis://user:pw@h:1/0" -> "redis://user:[REDACTED]@h:1/0"; "redis://:pw@h" likewise.
// Text without a URL userinfo part is returned unchanged. Also masks "Bearer <tok>".
std::string RedactSecrets(std::string_view text);

}  // namespace redisfleet
