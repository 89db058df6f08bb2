#pragma once
// "HOST:PORT" as the fakes' Start() takes it (PORT 0 = any free port).

#include <string>
#include <utility>

#include "common/status.h"

namespace redisfleet::fakes {

// {host, port}; InvalidArgument without a colon or with a port that is not a number.
inline StatusOr<std::pair<std::string, int>> ParseListenAddr(const std::string& addr) {
  const auto colon = addr.rfind(':');
  if (colon == std::string::npos) return InvalidArgumentError("address must be HOST:PORT");
  try {
    return std::make_pair(addr.substr(0, colon), std::stoi(addr.substr(colon + 1)));
  } catch (...) {
    return InvalidArgumentError("bad port in " + addr);
  }
}

}  // namespace redisfleet::fakes
