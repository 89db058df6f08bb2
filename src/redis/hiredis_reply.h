#pragma once
// Conversion of a hiredis reply tree (from a redisContext or a redisReader) to redis::Reply.
// Internal to src/redis: the plain TCP and the TLS transports share it.

#include <hiredis/hiredis.h>

#include "redis/client.h"

namespace redisfleet::redis {

// A deep copy of `r`; unknown reply types become Nil.
Reply FromHiredis(const redisReply* r);

}  // namespace redisfleet::redis
