#include "common/redact.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace redisfleet {

bool IsSecretKey(std::string_view key) {
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  static constexpr std::array<std::string_view, 7> kWords = {
      "password", "token", "secret", "apikey", "api_key", "authorization", "credentials"};
  return std::any_of(kWords.begin(), kWords.end(),
                     [&](std::string_view w) { return lower.find(w) != std::string::npos; });
}

std::string RedactSecrets(std::string_view text) {
  std::string out(text);
  // URL userinfo: scheme://[user][:password]@host
  std::size_t pos = 0;
  while ((pos = out.find("://", pos)) != std::string::npos) {
    std::size_t start = pos + 3;
    std::size_t end = out.find_first_of("/ \t\r\n\"'?#", start);
    if (end == std::string::npos) end = out.size();
    std::size_t at = out.rfind('@', end);
    if (at != std::string::npos && at >= start) {
      std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) {
        out.replace(colon + 1, at - colon - 1, kRedacted);
        end = colon + 1 + kRedacted.size();
      }
    }
    pos = end;
  }
  // Authorization-style credentials.
  for (std::string_view scheme : {std::string_view("Bearer "), std::string_view("Basic ")}) {
    pos = 0;
    while ((pos = out.find(scheme, pos)) != std::string::npos) {
      std::size_t start = pos + scheme.size();
      std::size_t end = out.find_first_of(" \t\r\n\"',;", start);
      if (end == std::string::npos) end = out.size();
      if (end > start) out.replace(start, end - start, kRedacted);
      pos = start + kRedacted.size();
    }
  }
  return out;
}

}  // namespace redisfleet
