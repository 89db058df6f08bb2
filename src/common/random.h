#pragma once
// Randomness is injected. CryptoRandom (OpenSSL RAND_bytes) makes passwords.

#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace redisfleet {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void Fill(uint8_t* data, std::size_t n) = 0;
  // Uniform in [0,1).
  double NextDouble();
  // `length` characters from [A-Za-z0-9], without modulo bias.
  std::string AlphaNumeric(std::size_t length);
  // A random lowercase hex string of `bytes` bytes (2*bytes characters).
  std::string Hex(std::size_t bytes);
};

// OpenSSL's CSPRNG. Thread-safe.
class CryptoRandom final : public RandomSource {
 public:
  void Fill(uint8_t* data, std::size_t n) override;
};

// Deterministic, for tests and benchmarks. Thread-safe.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : gen_(seed) {}
  void Fill(uint8_t* data, std::size_t n) override;

 private:
  std::mutex mu_;
  std::mt19937_64 gen_;
};

}  // namespace redisfleet
