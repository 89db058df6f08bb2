#include "common/random.h"

#include <cstdlib>
#include <stdexcept>

#include <openssl/rand.h>

namespace redisfleet {

double RandomSource::NextDouble() {
  uint64_t v = 0;
  Fill(reinterpret_cast<uint8_t*>(&v), sizeof(v));
  return static_cast<double>(v >> 11) * (1.0 / 9007199254740992.0);
}

std::string RandomSource::AlphaNumeric(std::size_t length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  constexpr unsigned kSize = sizeof(kAlphabet) - 1;  // 62
  constexpr unsigned kLimit = 256 - (256 % kSize);     // reject bytes >= 248
  std::string out;
  out.reserve(length);
  uint8_t buf[64];
  while (out.size() < length) {
    Fill(buf, sizeof(buf));
    for (uint8_t b : buf) {
      if (b >= kLimit) continue;
      out += kAlphabet[b % kSize];
      if (out.size() == length) break;
    }
  }
  return out;
}

std::string RandomSource::Hex(std::size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string raw(bytes, '\0');
  Fill(reinterpret_cast<uint8_t*>(raw.data()), bytes);
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

void CryptoRandom::Fill(uint8_t* data, std::size_t n) {
  if (RAND_bytes(data, static_cast<int>(n)) != 1) {
    // No randomness means no safe passwords: fail loudly rather than weaken them.
    std::abort();
  }
}

void SeededRandom::Fill(uint8_t* data, std::size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(gen_() & 0xff);
}

}  // namespace redisfleet
