#include "common/memory.h"

#include <malloc.h>

#include <fstream>
#include <string>

namespace redisfleet {

void LimitMallocArenas() { ::mallopt(M_ARENA_MAX, 2); }

int64_t PeakRssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

}  // namespace redisfleet
