#pragma once
// Process-wide memory settings and figures.

#include <cstdint>

namespace redisfleet {

// glibc gives each thread that contends for malloc its own arena (up to 8 per core), and each
// arena keeps its freed memory. The operator's workers allocate small, short-lived objects, so
// two arenas lose no measurable speed and keep resident memory flat as workers are added.
// Call once, first thing in main.
void LimitMallocArenas();

// Peak resident set size of this process (VmHWM), in KiB; -1 when unknown.
int64_t PeakRssKiB();

}  // namespace redisfleet
